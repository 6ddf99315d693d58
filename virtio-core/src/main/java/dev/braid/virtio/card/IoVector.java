package dev.braid.virtio.card;

import dev.braid.virtio.memory.GuestMemory;

/**
 * A scatter-gather list over guest memory: the data part of one request, handed to a card so that
 * it can DMA straight to and from the guest's buffers. Segments are already validated to lie inside
 * guest memory. Reused per in-flight slot; owned by whoever holds the request.
 */
public final class IoVector
{
    private final long[] addresses;
    private final int[] lengths;
    private GuestMemory memory;
    private int count;
    private long totalLength;

    public IoVector(final int maxSegments)
    {
        addresses = new long[maxSegments];
        lengths = new int[maxSegments];
    }

    public void reset(final GuestMemory memory)
    {
        this.memory = memory;
        count = 0;
        totalLength = 0;
    }

    /** Appends a segment; false when full. */
    public boolean add(final long gpa, final int length)
    {
        if (count == addresses.length)
        {
            return false;
        }
        addresses[count] = gpa;
        lengths[count] = length;
        count++;
        totalLength += length & 0xFFFF_FFFFL;
        return true;
    }

    public GuestMemory memory()
    {
        return memory;
    }

    public int count()
    {
        return count;
    }

    public long address(final int index)
    {
        return addresses[index];
    }

    public int length(final int index)
    {
        return lengths[index];
    }

    public long totalLength()
    {
        return totalLength;
    }

    public int maxSegments()
    {
        return addresses.length;
    }

    /**
     * Copies {@code length} bytes starting {@code offset} bytes into this vector out to {@code dst}.
     * Returns the number of bytes copied (less when the vector is shorter).
     */
    public int copyOut(final long offset, final byte[] dst, final int dstOffset, final int length)
    {
        return copy(offset, dst, dstOffset, length, true);
    }

    /** Copies {@code length} bytes from {@code src} into the vector at {@code offset}; returns bytes copied. */
    public int copyIn(final long offset, final byte[] src, final int srcOffset, final int length)
    {
        return copy(offset, src, srcOffset, length, false);
    }

    // One walk for both directions: the flag costs a predictable branch per segment, not per byte.
    private int copy(final long offset, final byte[] bytes, final int bytesOffset, final int length, final boolean out)
    {
        long skip = offset;
        int done = 0;
        for (int i = 0; i < count && done < length; i++)
        {
            final long segmentLength = lengths[i] & 0xFFFF_FFFFL;
            if (skip >= segmentLength)
            {
                skip -= segmentLength;
                continue;
            }
            final int chunk = (int)Math.min(segmentLength - skip, length - done);
            if (out)
            {
                memory.getBytes(addresses[i] + skip, bytes, bytesOffset + done, chunk);
            }
            else
            {
                memory.putBytes(addresses[i] + skip, bytes, bytesOffset + done, chunk);
            }
            done += chunk;
            skip = 0;
        }
        return done;
    }
}
