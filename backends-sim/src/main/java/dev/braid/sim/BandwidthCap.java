package dev.braid.sim;

/**
 * A token bucket on bytes per second and on requests per second, kept as a theoretical arrival
 * time per dimension (GCRA) so that the earliest start of a request is computed, never waited for.
 * A full bucket lets a burst of {@code burstBytes} / {@code burstIos} start at once; after that
 * requests start at the sustained rate.
 *
 * <p>{@link #reserve} takes a lock: a card's queues may run on different threads and share the
 * card's bandwidth. It is the sim's medium, not the data path, and uncontended in deterministic mode.
 */
public final class BandwidthCap
{
    /** Rate value meaning "no limit on this dimension". */
    public static final long UNLIMITED = 0;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long bytesPerSecond;
    private final long iosPerSecond;
    private final long byteToleranceNanos;
    private final long ioToleranceNanos;
    private long byteArrivalNanos = Long.MIN_VALUE;
    private long ioArrivalNanos = Long.MIN_VALUE;

    /**
     * @param bytesPerSecond sustained bytes/s, or {@link #UNLIMITED}.
     * @param iosPerSecond   sustained requests/s, or {@link #UNLIMITED}.
     * @param burstBytes     bucket size in bytes (at least one request's worth makes sense).
     * @param burstIos       bucket size in requests (at least 1).
     */
    public BandwidthCap(final long bytesPerSecond, final long iosPerSecond, final long burstBytes, final long burstIos)
    {
        if (bytesPerSecond < 0 || iosPerSecond < 0 || burstBytes < 0 || burstIos < 1)
        {
            throw new IllegalArgumentException("bad bandwidth cap: " + bytesPerSecond + "B/s " + iosPerSecond +
                "io/s burst " + burstBytes + "B " + burstIos + "io");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.iosPerSecond = iosPerSecond;
        this.byteToleranceNanos = bytesPerSecond == UNLIMITED ? 0 : costNanos(burstBytes, bytesPerSecond);
        this.ioToleranceNanos = iosPerSecond == UNLIMITED ? 0 : costNanos(burstIos, iosPerSecond);
    }

    /** A cap on bytes/s only, with a burst of {@code burstBytes}. */
    public static BandwidthCap bytesPerSecond(final long bytesPerSecond, final long burstBytes)
    {
        return new BandwidthCap(bytesPerSecond, UNLIMITED, burstBytes, 1);
    }

    /** A cap on requests/s only, with a burst of {@code burstIos}. */
    public static BandwidthCap iosPerSecond(final long iosPerSecond, final long burstIos)
    {
        return new BandwidthCap(UNLIMITED, iosPerSecond, 0, burstIos);
    }

    public long bytesPerSecondLimit()
    {
        return bytesPerSecond;
    }

    public long iosPerSecondLimit()
    {
        return iosPerSecond;
    }

    /**
     * Takes the tokens for one request of {@code bytes} arriving at {@code nowNanos} and returns the
     * earliest time it may start (at or after {@code nowNanos}). Requests are served in call order; a
     * request larger than the bucket starts once the bucket is full again.
     */
    public synchronized long reserve(final long nowNanos, final long bytes)
    {
        long start = nowNanos;
        long byteCost = 0;
        long ioCost = 0;
        if (bytesPerSecond != UNLIMITED)
        {
            byteCost = costNanos(bytes, bytesPerSecond);
            start = Math.max(start, earliest(byteArrivalNanos, byteCost, byteToleranceNanos));
        }
        if (iosPerSecond != UNLIMITED)
        {
            ioCost = costNanos(1, iosPerSecond);
            start = Math.max(start, earliest(ioArrivalNanos, ioCost, ioToleranceNanos));
        }
        if (bytesPerSecond != UNLIMITED)
        {
            byteArrivalNanos = Math.max(byteArrivalNanos, start) + byteCost;
        }
        if (iosPerSecond != UNLIMITED)
        {
            ioArrivalNanos = Math.max(ioArrivalNanos, start) + ioCost;
        }
        return start;
    }

    /** The earliest start {@link #reserve} would return now, without taking tokens. */
    public synchronized long peek(final long nowNanos, final long bytes)
    {
        long start = nowNanos;
        if (bytesPerSecond != UNLIMITED)
        {
            start = Math.max(start, earliest(byteArrivalNanos, costNanos(bytes, bytesPerSecond), byteToleranceNanos));
        }
        if (iosPerSecond != UNLIMITED)
        {
            start = Math.max(start, earliest(ioArrivalNanos, costNanos(1, iosPerSecond), ioToleranceNanos));
        }
        return start;
    }

    /** Refills the bucket (a card reset). */
    public synchronized void reset()
    {
        byteArrivalNanos = Long.MIN_VALUE;
        ioArrivalNanos = Long.MIN_VALUE;
    }

    public String toString()
    {
        return "BandwidthCap{" + bytesPerSecond + "B/s, " + iosPerSecond + "io/s}";
    }

    private static long earliest(final long arrivalNanos, final long costNanos, final long toleranceNanos)
    {
        if (arrivalNanos == Long.MIN_VALUE)
        {
            return Long.MIN_VALUE;
        }
        // Conforms once the bucket holds this request's tokens; a request larger than the bucket waits
        // only for a full bucket.
        return arrivalNanos - Math.max(0, toleranceNanos - costNanos);
    }

    /** Nanoseconds that {@code amount} units take at {@code perSecond}, rounded up; saturating. */
    private static long costNanos(final long amount, final long perSecond)
    {
        final long high = Math.multiplyHigh(amount, NANOS_PER_SECOND);
        final long low = amount * NANOS_PER_SECOND;
        if (high != 0 || low < 0)
        {
            return Long.MAX_VALUE / 4;
        }
        return low / perSecond + (low % perSecond == 0 ? 0 : 1);
    }
}
