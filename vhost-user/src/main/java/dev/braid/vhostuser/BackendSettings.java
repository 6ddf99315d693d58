package dev.braid.vhostuser;

import dev.braid.aggregator.DeviceContext;
import dev.braid.ha.Aggregation;
import dev.braid.ha.AllDownPolicy;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.memory.GuestMemory;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * What every vhost-user device is built over, checked once when it is made: the cards, how they
 * share the guest's queues, the largest ring size and the agent threads. {@link #applyTo} sets the
 * part of a device's {@link DeviceContext} that is the same for blk, scsi and net. Immutable.
 *
 * @param <K> the card type of the device.
 */
final class BackendSettings<K extends Card>
{
    /** How long requests may wait for a card when none can take them (the device's all-down policy). */
    static final long ALL_DOWN_DEADLINE_NANOS = 5_000_000_000L;

    /** "blk", "scsi", "net": the device in its messages. */
    final String kind;
    final List<K> cards;
    final int maxQueueSize;
    final int agentThreads;
    final Aggregation aggregation;

    /**
     * @param queues      the device's own queue count (queues, request queues, pairs): 1..{@code queueLimit}.
     * @param queuesNamed how a bad {@code queues} is named in the message ("queues", "queue pairs", ...).
     */
    BackendSettings(final String kind, final List<K> cards, final int queues, final int queueLimit,
        final String queuesNamed, final int maxQueueSize, final int agentThreads, final Aggregation aggregation)
    {
        if (aggregation == null)
        {
            throw new IllegalArgumentException("a " + kind + " device needs an aggregation: null");
        }
        if (cards.isEmpty())
        {
            throw new IllegalArgumentException("a " + kind + " device needs at least one card");
        }
        if (queues < 1 || queues > queueLimit)
        {
            throw new IllegalArgumentException(queuesNamed + " must be 1.." + queueLimit + ": " + queues);
        }
        if (maxQueueSize < 1 || maxQueueSize > 32768 || Integer.bitCount(maxQueueSize) != 1)
        {
            throw new IllegalArgumentException("queue size must be a power of two 1..32768: " + maxQueueSize);
        }
        if (agentThreads < 1)
        {
            throw new IllegalArgumentException("agent threads must be >= 1: " + agentThreads);
        }
        this.kind = kind;
        this.cards = List.copyOf(cards);
        this.maxQueueSize = maxQueueSize;
        this.agentThreads = agentThreads;
        this.aggregation = aggregation;
    }

    /**
     * Memory, cards, ring size, aggregation, all-down policy and interrupts ({@code calls} gets the
     * ring index; null for a device that is never activated). The config interrupt does nothing:
     * the back end has no channel to raise one (no SLAVE_REQ).
     */
    <C extends DeviceContext<C, K>> C applyTo(final C context, final GuestMemory memory, final IntConsumer calls)
    {
        return context
            .memory(memory).cards(cards).queueMaxSize(maxQueueSize)
            .aggregation(aggregation)
            .allDown(AllDownPolicy.queueUntilDeadline(ALL_DOWN_DEADLINE_NANOS))
            .interrupts(q -> calls.accept(q))
            .configInterrupt(() -> { });
    }
}
