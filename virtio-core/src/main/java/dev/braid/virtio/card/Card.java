package dev.braid.virtio.card;

/**
 * The part of the card SPI common to NICs, disks and HBAs: what the aggregator needs to spread a
 * device over several cards and to survive one of them failing.
 *
 * <h2>Threading</h2>
 * Each card queue is driven by exactly one thread at a time (its card worker agent): {@code submit}
 * and {@link #poll} (or {@link #canWait} and {@link #pollOrWait}) for one queue are never called
 * concurrently. Completions may be reported from any thread. {@link #fence()}, {@link #setEventListener}
 * and the link queries are thread-safe.
 */
public interface Card
{
    /** A short, unique, human-readable name ("disk0", "nic-a"). */
    String name();

    /** Number of hardware queues the card offers. */
    int queueCount();

    /** Depth of each queue: the most requests in flight on one queue. */
    int queueDepth();

    /**
     * Drives queue {@code queue}: reaps finished work and reports it to the sinks given at submit.
     * Returns the amount of work done, 0 when idle (an Agrona agent duty cycle).
     */
    int poll(int queue);

    /**
     * Optional: whether {@link #pollOrWait} on {@code queue} would sleep now: the card can sleep for
     * a completion (a file card's io_uring), has requests of the queue outstanding and nothing ready to
     * report. Asked by an idle worker thread before it waits in the card; the queue's worker thread only.
     * Default false: the card is only ever polled.
     */
    default boolean canWait(final int queue)
    {
        return false;
    }

    /**
     * Optional: {@link #poll} for a worker thread with nothing else to do. Where {@link #canWait}
     * holds, the card may sleep until its first completion or {@code timeoutNanos}, then reports what
     * is ready as {@code poll} does; otherwise it polls. A {@link #fence()} begun meanwhile may wait
     * out the sleep, so callers keep the timeout short. The queue's worker thread only. Default: poll.
     */
    default int pollOrWait(final int queue, final long timeoutNanos)
    {
        return poll(queue);
    }

    /**
     * Fences the card: once this returns, no request submitted before the call can read or write
     * guest memory any more. Pending requests complete with {@link CardStatus#CANCELLED} or not at
     * all. Until {@link #unfence()}, new submissions are refused. This is what lets the aggregator
     * replay a request elsewhere without a late DMA from this card overwriting a buffer the guest
     * has reused.
     */
    void fence();

    /**
     * Starts a fence for a caller that must not block on it (the aggregator's control agent): the
     * card stops taking submissions at once, and {@link #isFenceComplete()} says when what
     * {@link #fence()} promises on return holds. A card whose fence also waits for work outside
     * guest memory (an NBD server answering the writes it was sent) finishes it in the background.
     */
    default void beginFence()
    {
        fence();
    }

    /** Whether the fence begun last is complete: no earlier request can touch guest memory or land at the storage. */
    default boolean isFenceComplete()
    {
        return true;
    }

    /** Re-opens a fenced card for new submissions (a card that rejoins after a failure). */
    void unfence();

    /** Whether the card reports its link as up. */
    boolean isLinkUp();

    void setEventListener(CardEventListener listener);
}
