package dev.braid.virtio.device;

import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Byte-level views of a descriptor chain: the readable segments as one logical byte stream and the
 * writable segments as another, so a header split across descriptors reads like a contiguous one.
 * Positions are returned packed as {@code segment << 32 | offsetInSegment} to stay allocation-free.
 *
 * <p>Copies check every piece against guest memory and report failure instead of throwing, so
 * parsers stay safe even when handed a chain that no queue validated.
 */
public final class ChainBytes
{
    /** Returned by the locate methods when the offset lies outside the stream. */
    public static final long NOT_FOUND = -1L;

    private ChainBytes()
    {
    }

    public static long length(final DescriptorChain chain, final int segment)
    {
        return chain.length(segment) & 0xFFFF_FFFFL;
    }

    public static int segment(final long position)
    {
        return (int)(position >>> 32);
    }

    public static int offset(final long position)
    {
        return (int)position;
    }

    public static long position(final int segment, final int offset)
    {
        return ((long)segment << 32) | (offset & 0xFFFF_FFFFL);
    }

    /** Where readable byte {@code offset} lives, or {@link #NOT_FOUND} when past the readable bytes. */
    public static long locateReadable(final DescriptorChain chain, final long offset)
    {
        return locate(chain, 0, chain.readableCount(), offset);
    }

    /** Where writable byte {@code offset} lives, or {@link #NOT_FOUND}. */
    public static long locateWritable(final DescriptorChain chain, final long offset)
    {
        return locate(chain, chain.readableCount(), chain.segmentCount(), offset);
    }

    private static long locate(final DescriptorChain chain, final int from, final int to, final long offset)
    {
        if (offset < 0)
        {
            return NOT_FOUND;
        }
        long remaining = offset;
        for (int i = from; i < to; i++)
        {
            final long len = length(chain, i);
            if (remaining < len)
            {
                return position(i, (int)remaining);
            }
            remaining -= len;
        }
        return NOT_FOUND;
    }

    /**
     * Copies {@code length} readable bytes starting at readable offset {@code offset} into
     * {@code dst}. Returns false, having copied an unspecified prefix, when the stream is too short
     * or a piece lies outside guest memory.
     */
    public static boolean copyReadable(
        final GuestMemory memory,
        final DescriptorChain chain,
        final long offset,
        final MutableDirectBuffer dst,
        final int dstIndex,
        final int length)
    {
        return walk(memory, chain, locateReadable(chain, offset), chain.readableCount(), dst, dstIndex, length, false);
    }

    /**
     * Copies {@code length} bytes from {@code src} into the writable stream at writable offset
     * {@code offset}. Same failure rules as {@link #copyReadable}.
     */
    public static boolean copyToWritable(
        final GuestMemory memory,
        final DescriptorChain chain,
        final long offset,
        final DirectBuffer src,
        final int srcIndex,
        final int length)
    {
        return walk(memory, chain, locateWritable(chain, offset), chain.segmentCount(), src, srcIndex, length, true);
    }

    /** Whether readable bytes {@code [offset, offset + length)} exist and lie in guest memory. */
    public static boolean readableInMemory(
        final GuestMemory memory, final DescriptorChain chain, final long offset, final long length)
    {
        return walk(memory, chain, locateReadable(chain, offset), chain.readableCount(), null, 0, length, false);
    }

    /** Whether writable bytes {@code [offset, offset + length)} exist and lie in guest memory. */
    public static boolean writableInMemory(
        final GuestMemory memory, final DescriptorChain chain, final long offset, final long length)
    {
        return walk(memory, chain, locateWritable(chain, offset), chain.segmentCount(), null, 0, length, true);
    }

    // One walk of the stream from position start for the copies in both directions and for the
    // bounds check alone (buffer null): the mode costs a predictable branch per segment, not per byte.
    // When copying, length is an int, so each chunk is too.
    private static boolean walk(
        final GuestMemory memory,
        final DescriptorChain chain,
        final long start,
        final int end,
        final DirectBuffer buffer,
        final int bufferIndex,
        final long length,
        final boolean toGuest)
    {
        if (start == NOT_FOUND)
        {
            return length == 0;
        }
        int segment = segment(start);
        long inSegment = offset(start);
        long done = 0;
        while (done < length && segment < end)
        {
            final long chunk = Math.min(length - done, length(chain, segment) - inSegment);
            final long gpa = chain.address(segment) + inSegment;
            if (!memory.isValidRange(gpa, chunk))
            {
                return false;
            }
            if (buffer != null)
            {
                if (toGuest)
                {
                    memory.putBytes(gpa, buffer, bufferIndex + (int)done, (int)chunk);
                }
                else
                {
                    memory.getBytes(gpa, (MutableDirectBuffer)buffer, bufferIndex + (int)done, (int)chunk);
                }
            }
            done += chunk;
            segment++;
            inSegment = 0;
        }
        return done == length;
    }

    /** Guest-physical address of the last writable byte, or -1 when the chain has none in guest memory. */
    public static long lastWritableByte(final GuestMemory memory, final DescriptorChain chain)
    {
        final int count = chain.segmentCount();
        if (count == 0 || chain.writableCount() == 0)
        {
            return -1;
        }
        final int last = count - 1;
        final long len = length(chain, last);
        if (len == 0)
        {
            return -1;
        }
        final long gpa = chain.address(last) + len - 1;
        return gpa >= 0 && memory.isValidRange(gpa, 1) ? gpa : -1;
    }
}
