package dev.braid.aggregator;

/**
 * Tunables of an aggregated device, validated in one place. Each setter returns this; {@link
 * #validate()} names the first bad value in a one-line message.
 */
public final class AggregatorContext
{
    private int batchSize = 64;
    private long noPathTimeoutNanos = 5_000_000_000L;
    private long ageReportIntervalNanos = 200_000L;
    private int maxAttempts = 1_000;
    private int maxSegments = 256;
    private int cardQueueBacklog = 4096;
    private long cardWaitNanos = DEFAULT_CARD_WAIT_NANOS;

    /**
     * The default card wait: the longest park of {@link AgentThreads#backoff()}, so a sleep in a card
     * holds the thread's other agents no longer than the back-off it replaces already did.
     */
    public static final long DEFAULT_CARD_WAIT_NANOS = 100_000L;
    /** The longest card wait allowed: a fence on another thread may wait out a sleep. */
    public static final long MAX_CARD_WAIT_NANOS = 10_000_000L;

    public int batchSize()
    {
        return batchSize;
    }

    /** Most chains popped, or completions drained, per duty cycle. */
    public AggregatorContext batchSize(final int batchSize)
    {
        this.batchSize = batchSize;
        return this;
    }

    public long noPathTimeoutNanos()
    {
        return noPathTimeoutNanos;
    }

    /**
     * How long a request waits when no card can take it, before it fails with IOERR (like
     * dm-multipath's no_path_retry). 0 fails at once. It is never infinite: no silent hang. Set
     * only from the all-down policy (AggregatedDevice.Builder, DeviceContext): one source, no order trap.
     */
    AggregatorContext noPathTimeoutNanos(final long noPathTimeoutNanos)
    {
        this.noPathTimeoutNanos = noPathTimeoutNanos;
        return this;
    }

    public long ageReportIntervalNanos()
    {
        return ageReportIntervalNanos;
    }

    /** How often each front queue reports the age of its oldest request per card. */
    public AggregatorContext ageReportIntervalNanos(final long ageReportIntervalNanos)
    {
        this.ageReportIntervalNanos = ageReportIntervalNanos;
        return this;
    }

    public int maxAttempts()
    {
        return maxAttempts;
    }

    /** Attempts after which a request that keeps failing on every path fails with IOERR. */
    public AggregatorContext maxAttempts(final int maxAttempts)
    {
        this.maxAttempts = maxAttempts;
        return this;
    }

    public int maxSegments()
    {
        return maxSegments;
    }

    /** Most data segments one request may have (virtio-blk seg_max). */
    public AggregatorContext maxSegments(final int maxSegments)
    {
        this.maxSegments = maxSegments;
        return this;
    }

    public int cardQueueBacklog()
    {
        return cardQueueBacklog;
    }

    /** Capacity of each card queue's submission ring and worker backlog. */
    public AggregatorContext cardQueueBacklog(final int cardQueueBacklog)
    {
        this.cardQueueBacklog = cardQueueBacklog;
        return this;
    }

    public long cardWaitNanos()
    {
        return cardWaitNanos;
    }

    /**
     * How long an idle agent thread may sleep in a card for its first completion ({@link
     * dev.braid.virtio.card.Card#pollOrWait}, e.g. a file card's io_uring_enter) instead of spinning or
     * backing off: see {@link CardWaitingIdleStrategy}. 0 never waits. Default 100 µs.
     */
    public AggregatorContext cardWaitNanos(final long cardWaitNanos)
    {
        this.cardWaitNanos = cardWaitNanos;
        return this;
    }

    /** Throws IllegalArgumentException naming the first bad value. */
    public AggregatorContext validate()
    {
        require(batchSize >= 1 && batchSize <= 65536, "batch size must be 1..65536: " + batchSize);
        require(noPathTimeoutNanos >= 0, "no-path timeout must be >= 0 ns: " + noPathTimeoutNanos);
        require(ageReportIntervalNanos > 0, "age report interval must be > 0 ns: " + ageReportIntervalNanos);
        require(maxAttempts >= 2 && maxAttempts <= CompletionToken.MAX_ATTEMPT,
            "max attempts must be 2.." + CompletionToken.MAX_ATTEMPT + ": " + maxAttempts);
        require(maxSegments >= 1 && maxSegments <= 32768, "max segments must be 1..32768: " + maxSegments);
        require(cardQueueBacklog >= 16 && cardQueueBacklog <= (1 << 20),
            "card queue backlog must be 16..1048576: " + cardQueueBacklog);
        require(cardWaitNanos >= 0 && cardWaitNanos <= MAX_CARD_WAIT_NANOS,
            "card wait must be 0.." + MAX_CARD_WAIT_NANOS + " ns: " + cardWaitNanos);
        return this;
    }

    private static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }
}
