package dev.braid.sim;

import java.util.SplittableRandom;

/**
 * How long a simulated card takes to serve one request, excluding any wait for bandwidth
 * ({@link BandwidthCap}). Draws come from the caller's seeded generator so that a run replays.
 * Implementations are stateless and allocation-free.
 */
@FunctionalInterface
public interface LatencyModel
{
    /** Serves everything at once. */
    LatencyModel ZERO = (operation, bytes, rng) -> 0;

    /**
     * @param operation a {@code BlockIo} operation (or a card-specific code).
     * @param bytes     bytes the request moves.
     * @param rng       the card queue's seeded generator.
     * @return service time in nanoseconds, never negative.
     */
    long serviceNanos(int operation, long bytes, SplittableRandom rng);

    static LatencyModel zero()
    {
        return ZERO;
    }

    static LatencyModel fixed(final long nanos)
    {
        return new FixedLatency(nanos, 0);
    }

    /** A fixed cost per request plus a cost per KiB moved. */
    static LatencyModel fixed(final long nanos, final long nanosPerKiB)
    {
        return new FixedLatency(nanos, nanosPerKiB);
    }

    static LatencyModel uniform(final long minNanos, final long maxNanos)
    {
        return new UniformLatency(minNanos, maxNanos);
    }

    static LatencyModel exponential(final long minNanos, final long meanExtraNanos, final long maxNanos)
    {
        return new ExponentialLatency(minNanos, meanExtraNanos, maxNanos);
    }

    static LatencyModel logNormal(
        final long medianNanos, final double sigma, final double tailProbability, final long tailFactor,
        final long maxNanos)
    {
        return new LogNormalLatency(medianNanos, sigma, tailProbability, tailFactor, maxNanos);
    }
}
