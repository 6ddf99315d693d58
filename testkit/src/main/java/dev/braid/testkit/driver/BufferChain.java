package dev.braid.testkit.driver;

/**
 * A reusable list of buffer elements to post as one chain: guest address, length and whether the
 * device may write it. Fill it, hand it to {@link DriverQueue#addChain}, then {@link #clear()} and
 * reuse it; it never allocates after construction.
 */
public final class BufferChain
{
    private final long[] gpas;
    private final int[] lengths;
    private final boolean[] writable;
    private int count;

    public BufferChain(final int capacity)
    {
        if (capacity < 1)
        {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        gpas = new long[capacity];
        lengths = new int[capacity];
        writable = new boolean[capacity];
    }

    public BufferChain clear()
    {
        count = 0;
        return this;
    }

    /** Appends a device-readable element; {@code length} is read as unsigned 32-bit. */
    public BufferChain readable(final long gpa, final int length)
    {
        return add(gpa, length, false);
    }

    /** Appends a device-writable element; {@code length} is read as unsigned 32-bit. */
    public BufferChain writable(final long gpa, final int length)
    {
        return add(gpa, length, true);
    }

    public BufferChain add(final long gpa, final int length, final boolean deviceWritable)
    {
        if (count == gpas.length)
        {
            throw new IllegalStateException("buffer chain is full: " + count);
        }
        gpas[count] = gpa;
        lengths[count] = length;
        writable[count] = deviceWritable;
        count++;
        return this;
    }

    public int count()
    {
        return count;
    }

    public int capacity()
    {
        return gpas.length;
    }

    public long gpa(final int index)
    {
        return gpas[checkIndex(index)];
    }

    public int length(final int index)
    {
        return lengths[checkIndex(index)];
    }

    public boolean isWritable(final int index)
    {
        return writable[checkIndex(index)];
    }

    /** Sum of the writable elements' lengths, each unsigned. */
    public long writableBytes()
    {
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            if (writable[i])
            {
                total += lengths[i] & 0xFFFF_FFFFL;
            }
        }
        return total;
    }

    /**
     * Whether the chain is one a correct driver may post: at least one element and no readable
     * element after a writable one (2.7.4.2, 2.8.x).
     */
    public boolean isWellFormed()
    {
        if (count == 0)
        {
            return false;
        }
        boolean seenWritable = false;
        for (int i = 0; i < count; i++)
        {
            if (writable[i])
            {
                seenWritable = true;
            }
            else if (seenWritable)
            {
                return false;
            }
        }
        return true;
    }

    private int checkIndex(final int index)
    {
        if (index < 0 || index >= count)
        {
            throw new IndexOutOfBoundsException("element " + index + " of " + count);
        }
        return index;
    }
}
