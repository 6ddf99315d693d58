package dev.braid.sim;

import java.util.SplittableRandom;

/** A constant service time, optionally plus a per-KiB transfer cost. */
public final class FixedLatency implements LatencyModel
{
    private final long nanos;
    private final long nanosPerKiB;

    public FixedLatency(final long nanos, final long nanosPerKiB)
    {
        if (nanos < 0 || nanosPerKiB < 0)
        {
            throw new IllegalArgumentException("negative latency: " + nanos + ", " + nanosPerKiB);
        }
        this.nanos = nanos;
        this.nanosPerKiB = nanosPerKiB;
    }

    public long serviceNanos(final int operation, final long bytes, final SplittableRandom rng)
    {
        return nanos + ((bytes + 1023) >> 10) * nanosPerKiB;
    }

    public String toString()
    {
        return "fixed(" + nanos + "ns+" + nanosPerKiB + "ns/KiB)";
    }
}
