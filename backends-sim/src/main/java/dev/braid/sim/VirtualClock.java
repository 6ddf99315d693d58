package dev.braid.sim;

import org.agrona.concurrent.NanoClock;

/**
 * A clock that only moves when told to: the time base of deterministic mode. Threaded mode uses
 * Agrona's {@code SystemNanoClock} in its place; sim code only ever sees a {@link NanoClock}.
 *
 * <p>Advanced by one thread (the {@link DeterministicScheduler} or a test). The field is volatile so
 * that a test which fences from a second thread still reads a coherent time.
 */
public final class VirtualClock implements NanoClock
{
    private volatile long nanos;

    public VirtualClock()
    {
        this(0);
    }

    public VirtualClock(final long startNanos)
    {
        this.nanos = startNanos;
    }

    public long nanoTime()
    {
        return nanos;
    }

    /** Moves the clock to {@code nanos}; time never goes backwards, so an earlier value is ignored. */
    public void advanceTo(final long nanos)
    {
        if (nanos > this.nanos)
        {
            this.nanos = nanos;
        }
    }

    /** Moves the clock forward by {@code deltaNanos} (non-negative), saturating at {@code Long.MAX_VALUE}. */
    public void advanceBy(final long deltaNanos)
    {
        if (deltaNanos < 0)
        {
            throw new IllegalArgumentException("negative advance: " + deltaNanos);
        }
        final long now = nanos;
        nanos = now + deltaNanos < now ? Long.MAX_VALUE : now + deltaNanos;
    }

    public String toString()
    {
        return "VirtualClock{" + nanos + "ns}";
    }
}
