package dev.braid.aggregator;

import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;

import java.util.function.IntPredicate;

/**
 * Where a card completes a control-plane probe: passes the answer on to the control plane as
 * {@link CardStatus#OK} or {@link CardStatus#IO_ERROR}, used length 0, whatever status and length
 * the card gave; the probe kind decides which statuses pass. One per control slot, reused.
 */
public final class ProbeSink implements CompletionSink
{
    private final IntPredicate passed;
    // Written by the card worker before the probe is submitted; the card's hand-off orders it.
    private volatile CompletionSink downstream;

    public ProbeSink(final IntPredicate passed)
    {
        this.passed = passed;
    }

    /** Aims the next answer at {@code downstream}; returns this sink, to hand to the card. Card worker thread. */
    public ProbeSink to(final CompletionSink downstream)
    {
        this.downstream = downstream;
        return this;
    }

    public boolean complete(final long token, final int status, final int length)
    {
        return downstream.complete(token, passed.test(status) ? CardStatus.OK : CardStatus.IO_ERROR, 0);
    }
}
