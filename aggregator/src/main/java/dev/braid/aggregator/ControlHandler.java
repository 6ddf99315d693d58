package dev.braid.aggregator;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CompletionSink;

/**
 * A control-plane request to a card (a probe, a SCSI task management function): not a guest request,
 * never prepared from a chain. Control requests travel their own channel: a control ring per card,
 * drained by the worker of card queue 0 (the card SPI allows one thread per card queue), and a
 * completion ring of their own; the token's guest-queue field names the channel, its head the slot.
 *
 * <p>The card reports into {@code sink}, the port's {@link CompletionGate} of the token's
 * generation, as for any request: nothing a fenced card says about a control request is trusted.
 */
public interface ControlHandler<C extends Card>
{
    /** Starts control slot {@code slot} on the card; false when the card queue is full. Card worker thread. */
    boolean submit(C card, int cardQueue, int slot, long token, CompletionSink sink);
}
