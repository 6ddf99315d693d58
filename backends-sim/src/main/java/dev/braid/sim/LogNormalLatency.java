package dev.braid.sim;

import java.util.SplittableRandom;

/**
 * Log-normal service time around a median, plus rare hiccups: with {@code tailProbability} a request
 * takes {@code tailFactor} times as long (a GC pause, a flash erase, a path retry). Capped at
 * {@code maxNanos}. This is the shape that exercises timeouts and the service-time selector.
 */
public final class LogNormalLatency implements LatencyModel
{
    private final double medianNanos;
    private final double sigma;
    private final double tailProbability;
    private final long tailFactor;
    private final long maxNanos;

    public LogNormalLatency(
        final long medianNanos, final double sigma, final double tailProbability, final long tailFactor,
        final long maxNanos)
    {
        if (medianNanos < 0 || !(sigma >= 0) || !(tailProbability >= 0 && tailProbability <= 1) ||
            tailFactor < 1 || maxNanos < 0)
        {
            throw new IllegalArgumentException("bad log-normal latency: median=" + medianNanos + " sigma=" + sigma +
                " tail=" + tailProbability + "x" + tailFactor + " max=" + maxNanos);
        }
        this.medianNanos = medianNanos;
        this.sigma = sigma;
        this.tailProbability = tailProbability;
        this.tailFactor = tailFactor;
        this.maxNanos = maxNanos;
    }

    public long serviceNanos(final int operation, final long bytes, final SplittableRandom rng)
    {
        // Box-Muller; 1 - u1 lies in (0, 1] so the log is finite.
        final double u1 = 1.0 - rng.nextDouble();
        final double u2 = rng.nextDouble();
        final double z = Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
        double nanos = medianNanos * Math.exp(sigma * z);
        if (tailProbability > 0 && rng.nextDouble() < tailProbability)
        {
            nanos *= tailFactor;
        }
        return nanos >= maxNanos ? maxNanos : (long)nanos;
    }

    public String toString()
    {
        return "lognormal(median " + (long)medianNanos + "ns, sigma " + sigma + ", tail " + tailProbability +
            "x" + tailFactor + ", max " + maxNanos + "ns)";
    }
}
