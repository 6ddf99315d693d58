package dev.braid.aggregator;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Measures each failover's stall: from the moment a card was fenced to the guest's first
 * completion of a request replayed from it. Thread-safe; recording allocates nothing.
 */
public final class FailoverTracker
{
    private final AtomicLongArray fencedAt;
    private final AtomicLongArray firstReplayDone;
    private final AtomicLongArray replays;

    public FailoverTracker(final int maxCards)
    {
        fencedAt = new AtomicLongArray(maxCards);
        firstReplayDone = new AtomicLongArray(maxCards);
        replays = new AtomicLongArray(maxCards);
    }

    /** A card was fenced at {@code nowNanos}; a new stall measurement starts. */
    public void onFenced(final int card, final long nowNanos)
    {
        firstReplayDone.set(card, 0);
        fencedAt.set(card, nowNanos);
    }

    /** A request replayed away from {@code card} completed to the guest. */
    public void onReplayCompleted(final int card, final long nowNanos)
    {
        replays.incrementAndGet(card);
        firstReplayDone.compareAndSet(card, 0, nowNanos);
    }

    /** Stall of the card's last failover in nanos, or -1 when no replay has completed since. */
    public long lastStallNanos(final int card)
    {
        final long done = firstReplayDone.get(card);
        final long fenced = fencedAt.get(card);
        return done == 0 || fenced == 0 ? -1 : done - fenced;
    }

    public long fencedAtNanos(final int card)
    {
        return fencedAt.get(card);
    }

    public long replays(final int card)
    {
        return replays.get(card);
    }
}
