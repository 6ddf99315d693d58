package dev.braid.virtio.queue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.virtio.queue.SplitRingDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Arbitrary split ring contents from fuzz bytes, in a small guest memory with an adjacent pair of
 * regions and a hole. Whatever the bytes say, pop must not throw, must terminate, and must only
 * hand out segments inside guest memory.
 *
 * <p>Input format (missing bytes read as 0), see {@link SplitChainFuzzSeeds} for examples:
 * <pre>
 * byte 0      bits 0-2 log2(size) (capped at 4), bit 3 EVENT_IDX, bit 4 INDIRECT_DESC,
 *             bit 5 small DescriptorChain (size/2 segments)
 * bytes 1-2   avail.idx minus the start index (le16)
 * bytes 3-4   start index for both rings (le16), to reach the 16-bit wrap
 * size x 5    descriptor table: addr selector, len lo, len hi, flags, next
 * size x 1    avail ring heads
 * rest x 5    indirect area descriptors (up to 32), same 5-byte encoding
 * </pre>
 * Address selector b: {@code b>>6 == 0}: (b&0x3F)*0x100; 1: a region edge minus (b&0xF);
 * 2: near 2^63 or 2^64; 3: the indirect area + (b&0x3F)*16. Flags byte f: low 4 bits are the
 * descriptor flags; bit 6 makes len = (len&0x1F)*16; bit 7 sets the top 16 bits of len.
 */
class SplitChainFuzzTest
{
    static final long DESC = 0x000;
    static final long AVAIL = 0x100;
    static final long USED = 0x200;
    /** Straddles the boundary of the two adjacent regions at 0x1000. */
    static final long INDIRECT_AREA = 0xF00;
    static final int MAX_INDIRECT_AREA_ENTRIES = 32;
    static final long[] EDGES = {0x1000, 0x1800, 0x3000, 0x4000};

    @FuzzTest(maxDuration = "30s")
    void popArbitraryRing(final byte[] data)
    {
        final GuestMemory memory = GuestMemory.builder()
            .addAnonymous(0, 0x1000)
            .addAnonymous(0x1000, 0x800)
            .addAnonymous(0x3000, 0x1000)
            .build();
        final Input in = new Input(data);
        final int header = in.u8();
        final int size = 1 << Math.min(header & 7, 4);
        final boolean eventIdx = (header & 8) != 0;
        final boolean indirect = (header & 16) != 0;
        final int capacity = (header & 32) != 0 ? Math.max(1, size / 2) : size;
        final int availDelta = in.u16();
        final int start = in.u16();

        for (int i = 0; i < size; i++)
        {
            writeDescriptor(memory, DESC + i * 16L, in);
        }
        for (int i = 0; i < size; i++)
        {
            memory.putShort(AVAIL + AVAIL_RING_OFFSET + i * 2L, (short)in.u8());
        }
        for (int i = 0; i < MAX_INDIRECT_AREA_ENTRIES && in.remaining() > 0; i++)
        {
            writeDescriptor(memory, INDIRECT_AREA + i * 16L, in);
        }

        final SplitQueue queue = new SplitQueue(memory, size, DESC, AVAIL, USED, eventIdx, indirect);
        queue.startAt(start, start);
        memory.putShortRelease(AVAIL + AVAIL_IDX_OFFSET, (short)(start + availDelta));
        queue.disableNotifications();

        final DescriptorChain chain = new DescriptorChain(capacity);
        int consumed = 0;
        int pops = 0;
        while (true)
        {
            final int status = queue.pop(chain);
            pops++;
            assertTrue(pops <= size + 1, "pops must end: at most size chains can be outstanding");
            if (status == ChainStatus.EMPTY)
            {
                assertEquals(0, (start + availDelta - queue.lastAvailIndex()) & 0xFFFF);
                break;
            }
            if (ChainStatus.isRingError(status))
            {
                assertTrue(queue.isBroken());
                assertEquals(ChainStatus.QUEUE_BROKEN, queue.pop(chain));
                break;
            }
            assertTrue(status == ChainStatus.POPPED || ChainStatus.isChainError(status), "status " + status);
            assertTrue(chain.id() >= 0 && chain.id() < size);
            if (status == ChainStatus.POPPED)
            {
                assertTrue(chain.segmentCount() <= Math.min(size, capacity));
                assertTrue(chain.descriptorCount() >= 1 && chain.descriptorCount() <= size);
                for (int s = 0; s < chain.segmentCount(); s++)
                {
                    final long length = chain.length(s) & 0xFFFF_FFFFL;
                    assertTrue(length > 0);
                    assertTrue(memory.isValidRange(chain.address(s), length), "segment outside memory");
                    assertEquals(s >= chain.readableCount(), chain.isWritable(s));
                }
            }
            queue.addUsed(chain.id(), 0);
            consumed++;
        }
        assertEquals(0, queue.inFlight());
        queue.publishUsed();
        assertEquals((start + consumed) & 0xFFFF, memory.getShort(USED + USED_IDX_OFFSET) & 0xFFFF);
        queue.needsInterrupt();
        queue.enableNotifications();
        queue.reset();
        assertFalse(queue.isBroken());
    }

    private static void writeDescriptor(final GuestMemory memory, final long gpa, final Input in)
    {
        final int selector = in.u8();
        long length = in.u16();
        final int flagsByte = in.u8();
        final int next = in.u8();
        if ((flagsByte & 0x40) != 0)
        {
            length = (length & 0x1F) * 16;
        }
        if ((flagsByte & 0x80) != 0)
        {
            length |= 0xFFFF_0000L;
        }
        memory.putLong(gpa + DESC_ADDR_OFFSET, address(selector));
        memory.putInt(gpa + DESC_LEN_OFFSET, (int)length);
        memory.putShort(gpa + DESC_FLAGS_OFFSET, (short)(flagsByte & 0x0F));
        memory.putShort(gpa + DESC_NEXT_OFFSET, (short)next);
    }

    static long address(final int selector)
    {
        switch (selector >>> 6)
        {
            case 0:
                return (selector & 0x3F) * 0x100L;
            case 1:
                return EDGES[(selector >>> 4) & 3] - (selector & 0xF);
            case 2:
                return (selector & 0x20) != 0 ?
                    Long.MAX_VALUE - (selector & 0x1F) : 0xFFFF_FFFF_FFFF_FFC0L | (selector & 0x1F);
            default:
                return INDIRECT_AREA + (selector & 0x3F) * 16L;
        }
    }

    /** Reads the fuzz bytes front to back; past the end everything is 0. */
    static final class Input
    {
        private final byte[] data;
        private int position;

        Input(final byte[] data)
        {
            this.data = data;
        }

        int u8()
        {
            return position < data.length ? data[position++] & 0xFF : 0;
        }

        int u16()
        {
            return u8() | (u8() << 8);
        }

        int remaining()
        {
            return data.length - position;
        }
    }
}
