package dev.braid.sim;

import java.util.SplittableRandom;

/** Service time uniform in {@code [min, max]}. */
public final class UniformLatency implements LatencyModel
{
    private final long minNanos;
    private final long maxNanos;

    public UniformLatency(final long minNanos, final long maxNanos)
    {
        if (minNanos < 0 || maxNanos < minNanos || maxNanos == Long.MAX_VALUE)
        {
            throw new IllegalArgumentException("bad uniform range: " + minNanos + ".." + maxNanos);
        }
        this.minNanos = minNanos;
        this.maxNanos = maxNanos;
    }

    public long serviceNanos(final int operation, final long bytes, final SplittableRandom rng)
    {
        return minNanos == maxNanos ? minNanos : rng.nextLong(minNanos, maxNanos + 1);
    }

    public String toString()
    {
        return "uniform(" + minNanos + ".." + maxNanos + "ns)";
    }
}
