package dev.braid.mapper.ring;

/**
 * Hand-off of request references (a slot index or a token) from front queues to one card queue
 * worker. The one consumer drains; which threads may offer is stated by the implementation.
 */
public interface SubmissionRing
{
    /** Adds {@code value}; false when full (nothing is added). Never blocks, never allocates. */
    boolean offer(long value);

    /**
     * Hands up to {@code limit} values, oldest first, to {@code handler}. Consumer thread only.
     * A value is consumed before its handler call, so a throwing handler loses only that value.
     *
     * @return the number of values handed over.
     */
    int drain(SubmissionHandler handler, int limit);

    int capacity();

    /** Values offered and not yet drained; a snapshot. */
    int size();

    boolean isEmpty();
}
