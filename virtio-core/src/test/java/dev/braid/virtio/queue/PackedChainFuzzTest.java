package dev.braid.virtio.queue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.virtio.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

import static dev.braid.virtio.queue.PackedRingDescriptor.DESCRIPTOR_LENGTH;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_ADDR_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_FLAGS_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_ID_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_LEN_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_AVAIL;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_INDIRECT;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_NEXT;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_USED;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_WRITE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Builds arbitrary packed ring contents (descriptors, indirect tables, event structures, racing
 * rewrites) from fuzz bytes in a small guest memory and drives the device through pops,
 * completions and notifications. Whatever the bytes, nothing throws, every segment lies in guest
 * memory, every pop returns, and the used cursor never overtakes the available one.
 *
 * <p>Input format (bytes past the end read as 0), also written by {@link PackedChainFuzzSeeds}:
 * <pre>
 *   u8 size-1 (low 4 bits), u8 options (1 EVENT_IDX, 2 INDIRECT, 4 two regions, 8 small chain object)
 *   size x descriptor record (8 bytes, see {@link #writeRecord})
 *   u8 n, then n x 16 raw bytes copied to the indirect table area
 *   ops until the end: u8 op, low 3 bits select (see {@link #run})
 * </pre>
 */
class PackedChainFuzzTest
{
    static final long MEMORY_SIZE = 0x4000;
    static final long HALF = MEMORY_SIZE / 2;
    static final long DRIVER_EVENT = 0x100;
    static final long DEVICE_EVENT = 0x104;
    static final long TABLE_AREA = 0x3000;
    static final int TABLE_AREA_LENGTH = 0x400;
    static final int MAX_OPS = 512;

    static final int OPT_EVENT_IDX = 1;
    static final int OPT_INDIRECT = 2;
    static final int OPT_TWO_REGIONS = 4;
    static final int OPT_SMALL_CHAIN = 8;

    // Record flag bits (one byte) mapped to descriptor flags.
    static final int R_NEXT = 1;
    static final int R_WRITE = 2;
    static final int R_INDIRECT = 4;
    static final int R_AVAIL = 8;
    static final int R_USED = 16;
    static final int R_JUNK = 32;

    // Record address modes (low 2 bits of the mode byte).
    static final int A_IN_MEMORY = 0;
    static final int A_TABLE = 1;
    static final int A_NEAR_END = 2;
    static final int A_WILD = 3;

    // Record length modes.
    static final int L_PLAIN = 0;
    static final int L_TIMES_16 = 1;
    static final int L_HUGE = 2;

    @FuzzTest(maxDuration = "60s")
    void popArbitraryRing(final byte[] data)
    {
        run(new Cursor(data));
    }

    static final class Cursor
    {
        private final byte[] data;
        private int position;

        Cursor(final byte[] data)
        {
            this.data = data == null ? new byte[0] : data;
        }

        boolean hasMore()
        {
            return position < data.length;
        }

        int u8()
        {
            return position < data.length ? data[position++] & 0xFF : 0;
        }

        int u16()
        {
            return u8() | (u8() << 8);
        }
    }

    private static void run(final Cursor in)
    {
        final int size = 1 + (in.u8() & 15);
        final int options = in.u8();
        final boolean twoRegions = (options & OPT_TWO_REGIONS) != 0;
        final GuestMemory memory = twoRegions ?
            GuestMemory.builder().addAnonymous(0, HALF).addAnonymous(HALF, HALF).build() :
            GuestMemory.allocate(MEMORY_SIZE);
        // In two-region mode the ring straddles the region boundary.
        final long ring = twoRegions ? HALF - DESCRIPTOR_LENGTH * ((size + 1) / 2) : 0x1000;
        final PackedQueue queue = new PackedQueue(
            memory, size, ring, DRIVER_EVENT, DEVICE_EVENT, (options & OPT_EVENT_IDX) != 0, (options & OPT_INDIRECT) != 0);
        final int maxSegments = (options & OPT_SMALL_CHAIN) != 0 ? 2 : size;
        final DescriptorChain chain = new DescriptorChain(maxSegments);

        for (int slot = 0; slot < size; slot++)
        {
            writeRecord(memory, ring + (long)slot * DESCRIPTOR_LENGTH, size, in);
        }
        final int tableDescriptors = Math.min(in.u8(), TABLE_AREA_LENGTH / DESCRIPTOR_LENGTH);
        for (int i = 0; i < tableDescriptors * DESCRIPTOR_LENGTH; i++)
        {
            memory.putByte(TABLE_AREA + i, (byte)in.u8());
        }

        final List<int[]> held = new ArrayList<>(); // {id, slots}
        long poppedSlots = 0;
        long usedSlots = 0;
        int ops = 0;
        boolean scripted = in.hasMore();
        while (ops++ < MAX_OPS && (scripted ? in.hasMore() : ops <= 2 * size + 1))
        {
            final int op = scripted ? in.u8() : 0;
            switch (op & 7)
            {
                case 0:
                case 1:
                case 2:
                {
                    final int status = queue.pop(chain);
                    if (status == ChainStatus.POPPED || ChainStatus.isChainError(status))
                    {
                        assertTrue(chain.id() >= 0 && chain.id() < size, "id " + chain.id());
                        assertTrue(chain.descriptorCount() >= 1 && chain.descriptorCount() <= size);
                        for (final int[] h : held)
                        {
                            assertNotEquals(h[0], chain.id(), "id popped twice while in flight");
                        }
                        held.add(new int[]{chain.id(), chain.descriptorCount()});
                        poppedSlots += chain.descriptorCount();
                        if (status == ChainStatus.POPPED)
                        {
                            checkSegments(memory, chain);
                        }
                    }
                    else if (status == ChainStatus.EMPTY)
                    {
                        assertFalse(queue.isBroken());
                    }
                    else
                    {
                        assertTrue(ChainStatus.isRingError(status), "status " + status);
                        assertTrue(queue.isBroken());
                        assertEquals(ChainStatus.QUEUE_BROKEN, queue.pop(chain));
                        assertFalse(queue.hasAvailable());
                    }
                    break;
                }
                case 3:
                    if (!held.isEmpty())
                    {
                        final int[] h = held.remove((op >>> 3) % held.size());
                        queue.addUsed(h[0], op >>> 3);
                        usedSlots += h[1];
                    }
                    break;
                case 4:
                    queue.publishUsed();
                    queue.needsInterrupt();
                    break;
                case 5:
                    if ((op & 8) != 0)
                    {
                        queue.disableNotifications();
                    }
                    else
                    {
                        queue.enableNotifications();
                    }
                    break;
                case 6:
                    writeRecord(memory, ring + (long)((op >>> 3) % size) * DESCRIPTOR_LENGTH, size, in);
                    break;
                default:
                    memory.putInt(DRIVER_EVENT, in.u16() | (in.u16() << 16));
                    break;
            }
            assertEquals(held.size(), queue.inFlight());
            assertTrue(usedSlots <= poppedSlots, "used overtook available");
            assertEquals(poppedSlots % size, queue.nextAvailIndex());
            assertEquals(usedSlots % size, queue.nextUsedIndex());
            assertEquals((poppedSlots / size) % 2 == 0, queue.availWrapCounter());
            assertEquals((usedSlots / size) % 2 == 0, queue.usedWrapCounter());
        }
        queue.publishUsed();
        queue.reset();
        assertFalse(queue.isBroken());
        assertEquals(0, queue.inFlight());
    }

    private static void checkSegments(final GuestMemory memory, final DescriptorChain chain)
    {
        assertTrue(chain.segmentCount() <= chain.maxSegments());
        long readable = 0;
        long writable = 0;
        for (int s = 0; s < chain.segmentCount(); s++)
        {
            final long length = chain.length(s) & 0xFFFF_FFFFL;
            assertTrue(length > 0);
            assertTrue(memory.isValidRange(chain.address(s), length), "segment outside guest memory");
            if (s > 0 && chain.isWritable(s - 1))
            {
                assertTrue(chain.isWritable(s), "readable after writable");
            }
            if (chain.isWritable(s))
            {
                writable += length;
            }
            else
            {
                readable += length;
            }
        }
        assertEquals(readable, chain.readableBytes());
        assertEquals(writable, chain.writableBytes());
    }

    /**
     * One descriptor from 8 bytes: u16 address seed, u8 address mode, u16 length, u8 id seed,
     * u8 flag bits, u8 length mode.
     */
    static void writeRecord(final GuestMemory memory, final long gpa, final int size, final Cursor in)
    {
        final int addrSeed = in.u16();
        final int addrMode = in.u8();
        final int lenSeed = in.u16();
        final int idSeed = in.u8();
        final int bits = in.u8();
        final int lenMode = in.u8();

        final long addr;
        switch (addrMode & 3)
        {
            case A_IN_MEMORY:
                addr = addrSeed % MEMORY_SIZE;
                break;
            case A_TABLE:
                addr = TABLE_AREA + ((addrSeed * DESCRIPTOR_LENGTH) % TABLE_AREA_LENGTH);
                break;
            case A_NEAR_END:
                addr = MEMORY_SIZE - (addrSeed & 63);
                break;
            default:
                addr = ((long)addrSeed << 48) | ((long)addrMode << 40) | addrSeed;
                break;
        }
        final int len;
        switch (lenMode % 3)
        {
            case L_TIMES_16:
                len = (lenSeed & 0x3F) * DESCRIPTOR_LENGTH;
                break;
            case L_HUGE:
                len = 0xFFFF_0000 | lenSeed;
                break;
            default:
                len = lenSeed;
                break;
        }
        final int id = idSeed < 0xF0 ? idSeed % (size + 2) : 0xFF00 | idSeed;
        int flags = 0;
        flags |= (bits & R_NEXT) != 0 ? VIRTQ_DESC_F_NEXT : 0;
        flags |= (bits & R_WRITE) != 0 ? VIRTQ_DESC_F_WRITE : 0;
        flags |= (bits & R_INDIRECT) != 0 ? VIRTQ_DESC_F_INDIRECT : 0;
        flags |= (bits & R_AVAIL) != 0 ? VIRTQ_DESC_F_AVAIL : 0;
        flags |= (bits & R_USED) != 0 ? VIRTQ_DESC_F_USED & 0xFFFF : 0;
        flags |= (bits & R_JUNK) != 0 ? (bits << 3) & 0x7F00 : 0;

        memory.putLong(gpa + DESC_ADDR_OFFSET, addr);
        memory.putInt(gpa + DESC_LEN_OFFSET, len);
        memory.putShort(gpa + DESC_ID_OFFSET, (short)id);
        memory.putShortRelease(gpa + DESC_FLAGS_OFFSET, (short)flags);
    }
}
