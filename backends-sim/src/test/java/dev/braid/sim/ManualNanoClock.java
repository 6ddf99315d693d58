package dev.braid.sim;

import org.agrona.concurrent.NanoClock;

/** A clock tests move by hand. */
public final class ManualNanoClock implements NanoClock
{
    private volatile long now;

    public long nanoTime()
    {
        return now;
    }

    public void advance(final long nanos)
    {
        now += nanos;
    }
}
