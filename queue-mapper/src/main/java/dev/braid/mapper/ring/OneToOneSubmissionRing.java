package dev.braid.mapper.ring;

import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

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
    static final int ENTRY_LENGTH = 8;

    private final UnsafeBuffer buffer;
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
        final int entriesLength = capacity * ENTRY_LENGTH;
        final ByteBuffer byteBuffer = BufferUtil.allocateDirectAligned(entriesLength + TRAILER_LENGTH, BUFFER_ALIGNMENT);
        buffer = new UnsafeBuffer(byteBuffer);
        tailIndex = entriesLength + TAIL_OFFSET;
        headCacheIndex = entriesLength + HEAD_CACHE_OFFSET;
        headIndex = entriesLength + HEAD_OFFSET;
        tailCacheIndex = entriesLength + TAIL_CACHE_OFFSET;
        buffer.putLongVolatile(tailIndex, 0);
    }

    /** Producer thread only. */
    public boolean offer(final long value)
    {
        final long tail = buffer.getLong(tailIndex);
        if (tail - buffer.getLong(headCacheIndex) >= capacity)
        {
            final long head = buffer.getLongAcquire(headIndex);
            buffer.putLong(headCacheIndex, head);
            if (tail - head >= capacity)
            {
                return false;
            }
        }
        buffer.putLong(((int)tail & mask) * ENTRY_LENGTH, value);
        buffer.putLongRelease(tailIndex, tail + 1);
        return true;
    }

    /** Consumer thread only. */
    public int drain(final SubmissionHandler handler, final int limit)
    {
        long head = buffer.getLong(headIndex);
        long available = buffer.getLong(tailCacheIndex) - head;
        if (available < limit)
        {
            // The cached tail may be behind: look again rather than return a short batch.
            final long tail = buffer.getLongAcquire(tailIndex);
            buffer.putLong(tailCacheIndex, tail);
            available = tail - head;
        }
        final int batch = (int)Math.min(available, Math.max(limit, 0));
        int count = 0;
        try
        {
            while (count < batch)
            {
                final long value = buffer.getLong(((int)head & mask) * ENTRY_LENGTH);
                head++;
                count++;
                handler.onSubmission(value);
            }
        }
        finally
        {
            if (count > 0)
            {
                buffer.putLongRelease(headIndex, head);
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
        long after = buffer.getLongVolatile(headIndex);
        long tail;
        do
        {
            before = after;
            tail = buffer.getLongVolatile(tailIndex);
            after = buffer.getLongVolatile(headIndex);
        }
        while (before != after);
        return (int)Math.max(0, Math.min(capacity, tail - after));
    }

    public boolean isEmpty()
    {
        return size() == 0;
    }
}
