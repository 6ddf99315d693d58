package dev.braid.perf;

import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.mapper.ring.ManyToOneCompletionRing;

/** Braid's own sequenced MPSC ring over an aligned direct buffer. */
final class BraidHandoff extends CompletionHandoff implements CompletionHandler
{
    private final ManyToOneCompletionRing ring;

    BraidHandoff(final int capacity)
    {
        ring = new ManyToOneCompletionRing(capacity);
    }

    public Producer newProducer()
    {
        return ring::offer;
    }

    public int drain(final int limit)
    {
        return ring.drain(this, limit);
    }

    public void onCompletion(final long token, final int status, final int length)
    {
        consume(token, status, length);
    }
}
