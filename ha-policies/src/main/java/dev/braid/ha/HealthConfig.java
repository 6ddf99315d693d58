package dev.braid.ha;

import java.util.concurrent.TimeUnit;

/**
 * Thresholds of the card health machine, set fluently and checked by {@link #validate()}.
 *
 * <p>Time is in nanoseconds of whatever clock drives the machine (virtual in simulation).
 * Hysteresis: a card becomes SUSPECT at {@link #suspectAfterErrors()} errors inside the window but
 * leaves SUSPECT only when the window holds no error at all and a request succeeded since. A DOWN
 * card is held for {@code min(maxDownNanos, max(minDownNanos, probeIntervalNanos) * 2^flaps)},
 * where {@code flaps} counts failures since the card last stayed UP for {@link #stableNanos()}:
 * a card that keeps failing is re-admitted ever more slowly, so it cannot flap the map.
 */
public final class HealthConfig
{
    private int suspectAfterErrors = 3;
    private int downAfterErrors = 10;
    private long errorWindowNanos = TimeUnit.SECONDS.toNanos(1);
    private long completionTimeoutNanos = TimeUnit.SECONDS.toNanos(2);
    private long probeIntervalNanos = TimeUnit.MILLISECONDS.toNanos(100);
    private int upAfterProbes = 3;
    private long minDownNanos = TimeUnit.SECONDS.toNanos(1);
    private long maxDownNanos = TimeUnit.SECONDS.toNanos(60);
    private long stableNanos = TimeUnit.SECONDS.toNanos(30);

    /** Errors inside the window that make an UP card SUSPECT (still usable). */
    public HealthConfig suspectAfterErrors(final int errors)
    {
        suspectAfterErrors = errors;
        return this;
    }

    public int suspectAfterErrors()
    {
        return suspectAfterErrors;
    }

    /** Errors inside the window that make an UP or SUSPECT card DOWN. */
    public HealthConfig downAfterErrors(final int errors)
    {
        downAfterErrors = errors;
        return this;
    }

    public int downAfterErrors()
    {
        return downAfterErrors;
    }

    /** The sliding window over which errors are counted. */
    public HealthConfig errorWindowNanos(final long nanos)
    {
        errorWindowNanos = nanos;
        return this;
    }

    public long errorWindowNanos()
    {
        return errorWindowNanos;
    }

    /** The age of the oldest in-flight request at which a card is declared DOWN. */
    public HealthConfig completionTimeoutNanos(final long nanos)
    {
        completionTimeoutNanos = nanos;
        return this;
    }

    public long completionTimeoutNanos()
    {
        return completionTimeoutNanos;
    }

    /** The gap between probes of a PROBING card, and the shortest DOWN hold. */
    public HealthConfig probeIntervalNanos(final long nanos)
    {
        probeIntervalNanos = nanos;
        return this;
    }

    public long probeIntervalNanos()
    {
        return probeIntervalNanos;
    }

    /** Consecutive good probes that bring a PROBING card UP. */
    public HealthConfig upAfterProbes(final int probes)
    {
        upAfterProbes = probes;
        return this;
    }

    public int upAfterProbes()
    {
        return upAfterProbes;
    }

    /** The DOWN hold of a first failure: the base of the exponential flap damping. */
    public HealthConfig minDownNanos(final long nanos)
    {
        minDownNanos = nanos;
        return this;
    }

    public long minDownNanos()
    {
        return minDownNanos;
    }

    /** The cap of the damped DOWN hold. */
    public HealthConfig maxDownNanos(final long nanos)
    {
        maxDownNanos = nanos;
        return this;
    }

    public long maxDownNanos()
    {
        return maxDownNanos;
    }

    /** How long a card must stay UP before its flap count is forgiven. */
    public HealthConfig stableNanos(final long nanos)
    {
        stableNanos = nanos;
        return this;
    }

    public long stableNanos()
    {
        return stableNanos;
    }

    /**
     * Checks the thresholds.
     *
     * @return this.
     * @throws IllegalStateException with a one-line message naming the first bad field.
     */
    public HealthConfig validate()
    {
        if (suspectAfterErrors < 1)
        {
            throw new IllegalStateException("suspectAfterErrors must be >= 1: " + suspectAfterErrors);
        }
        if (downAfterErrors < suspectAfterErrors)
        {
            throw new IllegalStateException(
                "downAfterErrors (" + downAfterErrors + ") must be >= suspectAfterErrors (" + suspectAfterErrors + ")");
        }
        if (downAfterErrors > 4096)
        {
            throw new IllegalStateException("downAfterErrors must be <= 4096: " + downAfterErrors);
        }
        positive("errorWindowNanos", errorWindowNanos);
        positive("completionTimeoutNanos", completionTimeoutNanos);
        positive("probeIntervalNanos", probeIntervalNanos);
        if (upAfterProbes < 1)
        {
            throw new IllegalStateException("upAfterProbes must be >= 1: " + upAfterProbes);
        }
        positive("minDownNanos", minDownNanos);
        if (maxDownNanos < baseDownNanos())
        {
            throw new IllegalStateException(
                "maxDownNanos (" + maxDownNanos + ") must be >= max(minDownNanos, probeIntervalNanos) (" +
                baseDownNanos() + ")");
        }
        positive("stableNanos", stableNanos);
        return this;
    }

    long baseDownNanos()
    {
        return Math.max(minDownNanos, probeIntervalNanos);
    }

    /** The DOWN hold after {@code flaps} earlier unforgiven failures. */
    long holdNanos(final int flaps)
    {
        long hold = baseDownNanos();
        for (int i = 0; i < flaps && hold < maxDownNanos; i++)
        {
            hold = hold > maxDownNanos / 2 ? maxDownNanos : hold * 2;
        }
        return Math.min(hold, maxDownNanos);
    }

    private static void positive(final String name, final long value)
    {
        if (value <= 0)
        {
            throw new IllegalStateException(name + " must be > 0: " + value);
        }
    }

    public String toString()
    {
        return "HealthConfig{suspectAfterErrors=" + suspectAfterErrors + ", downAfterErrors=" + downAfterErrors +
            ", errorWindowNanos=" + errorWindowNanos + ", completionTimeoutNanos=" + completionTimeoutNanos +
            ", probeIntervalNanos=" + probeIntervalNanos + ", upAfterProbes=" + upAfterProbes +
            ", minDownNanos=" + minDownNanos + ", maxDownNanos=" + maxDownNanos + ", stableNanos=" + stableNanos + '}';
    }
}
