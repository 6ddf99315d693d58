package dev.braid.aggregator;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CompletionSink;

/**
 * A handler whose requests are started on a card and completed by it (blk, net tx, scsi). The card
 * reports into {@code sink}, its port's {@link CompletionGate} of the token's generation.
 */
public interface PushHandler<C extends Card> extends RequestHandler<C>
{
    /**
     * Starts the request on a card; false when the card queue is full. Card worker thread, after
     * the token hand-off through a ring (which orders the slot's contents before the worker reads them).
     */
    boolean submit(C card, int cardQueue, int slot, long token, CompletionSink sink);

    default PushHandler<C> asPush()
    {
        return this;
    }
}
