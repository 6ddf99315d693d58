package dev.braid.mapper.ring;

import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.braid.mapper.ring.RingDescriptor.*;

/**
 * Bounded many-producer, one-consumer ring of fixed-length entries, each guarded by a sequence word
 * (after D. Vyukov's bounded queue). Subclasses define the payload and the typed offer/drain.
 *
 * <p>Memory ordering, once: a producer reads a slot's sequence with acquire (so it cannot write the
 * payload before the consumer has finished reading the previous lap's), claims the position with a
 * CAS on the tail, writes the payload with plain stores and publishes with a release store of
 * {@code seq = position + 1}. The consumer reads the sequence with acquire (so the payload it then
 * reads is the published one), copies the payload out, and frees the slot with a release store of
 * {@code seq = position + capacity}. No locks; offer fails fast when full.
 *
 * <p>A producer stalled between its CAS and its publish holds back the consumer at that position
 * (elements behind it wait); as with every ordered ring, nothing is lost or reordered.
 */
abstract class SequencedRing
{
    final UnsafeBuffer buffer;
    final int capacity;
    final int entryLength;
    private final int mask;
    private final int tailIndex;
    private final int headIndex;

    SequencedRing(final int capacity, final int entryLength)
    {
        this.capacity = checkCapacity(capacity);
        this.entryLength = entryLength;
        mask = capacity - 1;
        final int entriesLength = capacity * entryLength;
        final ByteBuffer byteBuffer = BufferUtil.allocateDirectAligned(entriesLength + TRAILER_LENGTH, BUFFER_ALIGNMENT);
        buffer = new UnsafeBuffer(byteBuffer);
        tailIndex = entriesLength + TAIL_OFFSET;
        headIndex = entriesLength + HEAD_OFFSET;
        for (int i = 0; i < capacity; i++)
        {
            buffer.putLong(i * entryLength + SEQUENCE_OFFSET, i);
        }
        // Safe publication of the initialised slots to threads that receive this ring.
        buffer.putLongVolatile(tailIndex, 0);
    }

    /**
     * Claims the next position.
     *
     * @return the claimed position, or -1 when the ring is full.
     */
    final long claim()
    {
        final UnsafeBuffer buffer = this.buffer;
        while (true)
        {
            final long tail = buffer.getLongAcquire(tailIndex);
            final long sequence = buffer.getLongAcquire(offset(tail) + SEQUENCE_OFFSET);
            if (sequence == tail)
            {
                if (buffer.compareAndSetLong(tailIndex, tail, tail + 1))
                {
                    return tail;
                }
            }
            else if (sequence < tail)
            {
                // The consumer has not yet freed this slot from the previous lap.
                return -1;
            }
            // Otherwise another producer claimed this position first: retry with the new tail.
        }
    }

    final int offset(final long position)
    {
        return ((int)position & mask) * entryLength;
    }

    /** Makes the payload written at {@code position} visible to the consumer. */
    final void publish(final long position)
    {
        buffer.putLongRelease(offset(position) + SEQUENCE_OFFSET, position + 1);
    }

    /** Consumer: whether {@code position} is published. */
    final boolean isPublished(final int offset, final long position)
    {
        return buffer.getLongAcquire(offset + SEQUENCE_OFFSET) == position + 1;
    }

    /** Consumer: frees the slot of {@code position} for the producer one lap later. */
    final void free(final int offset, final long position)
    {
        buffer.putLongRelease(offset + SEQUENCE_OFFSET, position + capacity);
    }

    /** Consumer: next position to consume. */
    final long head()
    {
        return buffer.getLong(headIndex);
    }

    /** Consumer: records progress; release so that {@link #size()} from any thread is sane. */
    final void head(final long head)
    {
        buffer.putLongRelease(headIndex, head);
    }

    public final int capacity()
    {
        return capacity;
    }

    /** Elements claimed and not yet consumed; a snapshot, exact only when producers are quiet. */
    public final int size()
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

    public final boolean isEmpty()
    {
        return size() == 0;
    }
}
