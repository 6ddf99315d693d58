package dev.braid.aggregator;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters and latency of one front queue, per card where it matters. One writer (the front
 * queue's thread) updates them with release stores, so any thread may read them while I/O runs;
 * updating allocates nothing.
 */
public final class QueueStats
{
    public static final int POPPED = 0;
    public static final int COMPLETED = 1;
    public static final int BAD_REQUESTS = 2;
    public static final int STALE_DROPPED = 3;
    public static final int REPLAYED = 4;
    public static final int FAILED_NO_PATH = 5;
    public static final int GUEST_ERRORS = 6;
    public static final int INTERRUPTS = 7;
    public static final int NEEDS_RESET = 8;
    private static final int COUNTERS = 9;

    /** Highest latency the histogram tracks; larger values are clamped. */
    public static final long MAX_TRACKED_NANOS = 60_000_000_000L;

    private final AtomicLongArray counters = new AtomicLongArray(COUNTERS);
    private final AtomicLongArray cardSubmitted;
    private final AtomicLongArray cardCompleted;
    private final AtomicLongArray cardErrors;
    private final Recorder latency = new Recorder(MAX_TRACKED_NANOS, 3);

    public QueueStats(final int maxCards)
    {
        cardSubmitted = new AtomicLongArray(maxCards);
        cardCompleted = new AtomicLongArray(maxCards);
        cardErrors = new AtomicLongArray(maxCards);
    }

    void increment(final int counter)
    {
        counters.lazySet(counter, counters.get(counter) + 1);
    }

    void onCardSubmitted(final int card)
    {
        cardSubmitted.lazySet(card, cardSubmitted.get(card) + 1);
    }

    void onCardCompleted(final int card)
    {
        cardCompleted.lazySet(card, cardCompleted.get(card) + 1);
    }

    void onCardError(final int card)
    {
        cardErrors.lazySet(card, cardErrors.get(card) + 1);
    }

    void recordLatency(final long nanos)
    {
        latency.recordValue(Math.max(0, Math.min(nanos, MAX_TRACKED_NANOS)));
    }

    public long get(final int counter)
    {
        return counters.get(counter);
    }

    public long cardSubmitted(final int card)
    {
        return card < cardSubmitted.length() ? cardSubmitted.get(card) : 0;
    }

    public long cardCompleted(final int card)
    {
        return card < cardCompleted.length() ? cardCompleted.get(card) : 0;
    }

    public long cardErrors(final int card)
    {
        return card < cardErrors.length() ? cardErrors.get(card) : 0;
    }

    /** Latencies (guest pop to guest completion, nanos) recorded since the previous call. Allocates; not for the hot path. */
    public Histogram takeLatencyInterval()
    {
        return latency.getIntervalHistogram();
    }

    public static String counterName(final int counter)
    {
        switch (counter)
        {
            case POPPED: return "popped";
            case COMPLETED: return "completed";
            case BAD_REQUESTS: return "bad_requests";
            case STALE_DROPPED: return "stale_dropped";
            case REPLAYED: return "replayed";
            case FAILED_NO_PATH: return "failed_no_path";
            case GUEST_ERRORS: return "guest_errors";
            case INTERRUPTS: return "interrupts";
            case NEEDS_RESET: return "needs_reset";
            default: return "counter-" + counter;
        }
    }

    public static int counterCount()
    {
        return COUNTERS;
    }
}
