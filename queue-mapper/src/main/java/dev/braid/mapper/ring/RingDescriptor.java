package dev.braid.mapper.ring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Layout shared by the rings, all in one {@code long[]} (indices in longs): a leading pad, then
 * {@code capacity} fixed-length entries, then the counters, each group on its own pair of cache
 * lines (adjacent-line prefetch) so producers and the consumer do not false-share.
 *
 * <pre>
 *   [pad 128 B][entry 0][entry 1]...[entry capacity-1][pad 128 B][TAIL, HEAD_CACHE ..][HEAD, TAIL_CACHE ..]
 * </pre>
 *
 * Sequenced (many-to-one) entries start with a sequence word: {@code seq == position} means the
 * slot is free for the producer of that position, {@code seq == position + 1} means it holds that
 * position's element, {@code seq == position + capacity} frees it for the next lap.
 *
 * <p>A heap array rather than an Agrona buffer: every index is masked into range, and the JIT's
 * array checks cost less than UnsafeBuffer's explicit ones (measured in perf/README.md).
 */
final class RingDescriptor
{
    static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    /** Two 64-byte cache lines, in longs. */
    static final int CACHE_LINE_PAIR = 16;

    /** Index of entry 0. */
    static final int ENTRIES_INDEX = CACHE_LINE_PAIR;

    /** Trailer offsets, from the end of the entries. */
    static final int TAIL_OFFSET = CACHE_LINE_PAIR;
    static final int HEAD_CACHE_OFFSET = TAIL_OFFSET + 1;
    static final int HEAD_OFFSET = 2 * CACHE_LINE_PAIR;
    static final int TAIL_CACHE_OFFSET = HEAD_OFFSET + 1;
    static final int TRAILER_LENGTH = 3 * CACHE_LINE_PAIR;

    static final int SEQUENCE_OFFSET = 0;

    /** Largest capacity accepted; keeps every index an int and the array modest. */
    static final int MAX_CAPACITY = 1 << 24;

    private RingDescriptor()
    {
    }

    static int checkCapacity(final int capacity)
    {
        if (capacity < 2 || capacity > MAX_CAPACITY || Integer.bitCount(capacity) != 1)
        {
            throw new IllegalArgumentException("capacity must be a power of two in [2, " + MAX_CAPACITY + "]: " + capacity);
        }
        return capacity;
    }

    /** Length of the array for {@code capacity} entries of {@code entryLength} longs. */
    static int arrayLength(final int capacity, final int entryLength)
    {
        return ENTRIES_INDEX + capacity * entryLength + TRAILER_LENGTH;
    }
}
