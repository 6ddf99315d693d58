package dev.braid.mapper.ring;

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
 * {@code seq = position + capacity}. No locks; offer fails fast when full. The initial sequences
 * reach other threads through the final {@code slots} field.
 *
 * <p>A producer stalled between its CAS and its publish holds back the consumer at that position
 * (elements behind it wait); as with every ordered ring, nothing is lost or reordered.
 */
abstract class SequencedRing
{
    final long[] slots;
    final int capacity;
    private final int entryShift;
    private final int mask;
    private final int tailIndex;
    private final int headIndex;

    SequencedRing(final int capacity, final int entryLength)
    {
        this.capacity = checkCapacity(capacity);
        entryShift = Integer.numberOfTrailingZeros(entryLength);
        mask = capacity - 1;
        slots = new long[arrayLength(capacity, entryLength)];
        tailIndex = ENTRIES_INDEX + capacity * entryLength + TAIL_OFFSET;
        headIndex = ENTRIES_INDEX + capacity * entryLength + HEAD_OFFSET;
        for (int i = 0; i < capacity; i++)
        {
            slots[index(i) + SEQUENCE_OFFSET] = i;
        }
    }

    /**
     * Claims the next position.
     *
     * @return the claimed position, or -1 when the ring is full.
     */
    final long claim()
    {
        final long[] slots = this.slots;
        while (true)
        {
            final long tail = (long)LONGS.getAcquire(slots, tailIndex);
            final long sequence = (long)LONGS.getAcquire(slots, index(tail) + SEQUENCE_OFFSET);
            if (sequence == tail)
            {
                if (LONGS.compareAndSet(slots, tailIndex, tail, tail + 1))
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

    /** Array index of the entry for {@code position}. */
    final int index(final long position)
    {
        return ENTRIES_INDEX + (((int)position & mask) << entryShift);
    }

    /** Makes the payload written at {@code position} visible to the consumer. */
    final void publish(final int index, final long position)
    {
        LONGS.setRelease(slots, index + SEQUENCE_OFFSET, position + 1);
    }

    /** Consumer: whether {@code position} is published. */
    final boolean isPublished(final int index, final long position)
    {
        return (long)LONGS.getAcquire(slots, index + SEQUENCE_OFFSET) == position + 1;
    }

    /** Consumer: frees the slot of {@code position} for the producer one lap later. */
    final void free(final int index, final long position)
    {
        LONGS.setRelease(slots, index + SEQUENCE_OFFSET, position + capacity);
    }

    /** Consumer: next position to consume. */
    final long head()
    {
        return slots[headIndex];
    }

    /** Consumer: records progress; release so that {@link #size()} from any thread is sane. */
    final void head(final long head)
    {
        LONGS.setRelease(slots, headIndex, head);
    }

    public final int capacity()
    {
        return capacity;
    }

    /** Elements claimed and not yet consumed; a snapshot, exact only when producers are quiet. */
    public final int size()
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

    public final boolean isEmpty()
    {
        return size() == 0;
    }
}
