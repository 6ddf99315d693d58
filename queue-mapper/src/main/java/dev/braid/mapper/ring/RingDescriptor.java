package dev.braid.mapper.ring;

/**
 * Layout shared by the rings: {@code capacity} fixed-length entries, then a trailer holding the
 * counters, each group on its own pair of cache lines (adjacent-line prefetch) so producers and the
 * consumer do not false-share.
 *
 * <pre>
 *   [entry 0][entry 1]...[entry capacity-1]
 *   trailer: [pad 128][TAIL, HEAD_CACHE ...pad][HEAD, TAIL_CACHE ...pad]
 * </pre>
 *
 * Sequenced (many-to-one) entries start with an 8-byte sequence word: {@code seq == position}
 * means the slot is free for the producer of that position, {@code seq == position + 1} means it
 * holds that position's element, {@code seq == position + capacity} frees it for the next lap.
 */
final class RingDescriptor
{
    static final int CACHE_LINE_PAIR = 128;
    static final int BUFFER_ALIGNMENT = CACHE_LINE_PAIR;

    /** Producer side: next position to claim. */
    static final int TAIL_OFFSET = CACHE_LINE_PAIR;
    /** Producer side (one-to-one): last head the producer read. */
    static final int HEAD_CACHE_OFFSET = TAIL_OFFSET + 8;
    /** Consumer side: next position to consume. */
    static final int HEAD_OFFSET = 2 * CACHE_LINE_PAIR;
    /** Consumer side (one-to-one): last tail the consumer read. */
    static final int TAIL_CACHE_OFFSET = HEAD_OFFSET + 8;
    static final int TRAILER_LENGTH = 3 * CACHE_LINE_PAIR;

    static final int SEQUENCE_OFFSET = 0;

    /** Largest capacity accepted; keeps every offset an int and the buffer modest. */
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
}
