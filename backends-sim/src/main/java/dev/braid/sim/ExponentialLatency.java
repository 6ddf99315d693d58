package dev.braid.sim;

import java.util.SplittableRandom;

/** A floor plus an exponentially distributed extra, capped: the memoryless shape of a queueing device. */
public final class ExponentialLatency implements LatencyModel
{
    private final long minNanos;
    private final double meanExtraNanos;
    private final long maxNanos;

    public ExponentialLatency(final long minNanos, final long meanExtraNanos, final long maxNanos)
    {
        if (minNanos < 0 || meanExtraNanos < 0 || maxNanos < minNanos)
        {
            throw new IllegalArgumentException(
                "bad exponential latency: min=" + minNanos + " mean=" + meanExtraNanos + " max=" + maxNanos);
        }
        this.minNanos = minNanos;
        this.meanExtraNanos = meanExtraNanos;
        this.maxNanos = maxNanos;
    }

    public long serviceNanos(final int operation, final long bytes, final SplittableRandom rng)
    {
        // 1 - u lies in (0, 1], so the log is finite.
        final double extra = -meanExtraNanos * Math.log(1.0 - rng.nextDouble());
        return Math.min(maxNanos, minNanos + (long)extra);
    }

    public String toString()
    {
        return "exponential(" + minNanos + "ns+" + (long)meanExtraNanos + "ns, max " + maxNanos + "ns)";
    }
}
