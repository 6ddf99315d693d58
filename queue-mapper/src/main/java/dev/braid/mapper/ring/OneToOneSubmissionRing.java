package dev.braid.mapper.ring;

import static dev.braid.mapper.ring.RingDescriptor.*;

/**
 * Submission ring for a card queue fed by exactly one front queue thread (queue-affine): one
 * producer thread, one consumer thread. No CAS, no per-slot sequence.
 *
 * <p>Memory ordering: the producer writes the value with a plain store and publishes the tail with a
 * release store; the consumer reads the tail with acquire, then the values. The consumer returns
 * slots by a release store of the head after reading them; the producer reads the head with
 * acquire before reusing a slot. Each side caches the other's counter and re-reads it only when
 * the cached value says full (producer) or holds fewer than asked (consumer).
 */
public final class OneToOneSubmissionRing implements SubmissionRing
{
    /** In longs. */
    static final int ENTRY_LENGTH = 1;

    private final long[] slots;
    private final int capacity;
    private final int mask;
    private final int tailIndex;
    private final int headCacheIndex;
    private final int headIndex;
    private final int tailCacheIndex;

    public OneToOneSubmissionRing(final int capacity)
    {
        this.capacity = checkCapacity(capacity);
        mask = capacity - 1;
        slots = new long[arrayLength(capacity, ENTRY_LENGTH)];
        final int trailer = ENTRIES_INDEX + capacity * ENTRY_LENGTH;
        tailIndex = trailer + TAIL_OFFSET;
        headCacheIndex = trailer + HEAD_CACHE_OFFSET;
        headIndex = trailer + HEAD_OFFSET;
        tailCacheIndex = trailer + TAIL_CACHE_OFFSET;
    }

    /** Producer thread only. */
    public boolean offer(final long value)
    {
        final long[] slots = this.slots;
        final long tail = slots[tailIndex];
        if (tail - slots[headCacheIndex] >= capacity)
        {
            final long head = (long)LONGS.getAcquire(slots, headIndex);
            slots[headCacheIndex] = head;
            if (tail - head >= capacity)
            {
                return false;
            }
        }
        slots[ENTRIES_INDEX + ((int)tail & mask)] = value;
        LONGS.setRelease(slots, tailIndex, tail + 1);
        return true;
    }

    /** Consumer thread only. A value is consumed before its handler call. */
    public int drain(final SubmissionHandler handler, final int limit)
    {
        final long[] slots = this.slots;
        long head = slots[headIndex];
        long available = slots[tailCacheIndex] - head;
        if (available < limit)
        {
            // The cached tail may be behind: look again rather than return a short batch.
            final long tail = (long)LONGS.getAcquire(slots, tailIndex);
            slots[tailCacheIndex] = tail;
            available = tail - head;
        }
        final int batch = (int)Math.min(available, Math.max(limit, 0));
        int count = 0;
        try
        {
            while (count < batch)
            {
                final long value = slots[ENTRIES_INDEX + ((int)head & mask)];
                head++;
                count++;
                handler.onSubmission(value);
            }
        }
        finally
        {
            if (count > 0)
            {
                LONGS.setRelease(slots, headIndex, head);
            }
        }
        return count;
    }

    public int capacity()
    {
        return capacity;
    }

    public int size()
    {
        long before;
        long after = (long)LONGS.getVolatile(slots, headIndex);
        long tail;
        do
        {
            before = after;
            tail = (long)LONGS.getVolatile(slots, tailIndex);
            after = (long)LONGS.getVolatile(slots, headIndex);
        }
        while (before != after);
        return (int)Math.max(0, Math.min(capacity, tail - after));
    }

    public boolean isEmpty()
    {
        return size() == 0;
    }
}
