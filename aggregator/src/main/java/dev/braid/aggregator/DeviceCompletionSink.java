package dev.braid.aggregator;

import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.virtio.card.CompletionSink;

/**
 * Routes each card completion to the completion ring of the front queue named in its token.
 * Any card thread may call it; the rings are many-to-one.
 */
final class DeviceCompletionSink implements CompletionSink
{
    private final ManyToOneCompletionRing[] rings;

    /** @param rings one per guest queue, then the probe ring last. */
    DeviceCompletionSink(final ManyToOneCompletionRing[] rings)
    {
        if (rings.length > CompletionToken.MAX_GUEST_QUEUES)
        {
            throw new IllegalArgumentException("at most " + (CompletionToken.MAX_GUEST_QUEUES - 1) +
                " guest queues (a completion token names " + CompletionToken.GUEST_QUEUE_BITS + " bits): " +
                (rings.length - 1));
        }
        this.rings = rings;
    }

    public boolean complete(final long token, final int status, final int length)
    {
        final int guestQueue = CompletionToken.guestQueue(token);
        if (guestQueue >= rings.length)
        {
            return true;
        }
        return rings[guestQueue].offer(token, status, length);
    }
}
