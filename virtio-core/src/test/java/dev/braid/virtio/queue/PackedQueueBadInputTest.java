package dev.braid.virtio.queue;

import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_INDIRECT;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_NEXT;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_USED;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_AVAIL;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_WRITE;
import static dev.braid.virtio.queue.PackedRingWriter.availBits;
import static dev.braid.virtio.queue.PackedRingWriter.raw;
import static dev.braid.virtio.queue.PackedRingWriter.read;
import static dev.braid.virtio.queue.PackedRingWriter.write;
import static org.junit.jupiter.api.Assertions.*;

/**
 * One row per malformed ring: what pop returns, whether the queue breaks, and (for chain errors)
 * which id the caller completes and how many slots were consumed. Nothing may throw, and after a
 * chain error the next good chain must pop.
 */
class PackedQueueBadInputTest
{
    private static final int SIZE = 8;
    private static final long MEMORY_SIZE = 0x10000;
    private static final long RING = 0x1000;
    private static final long DRIVER_EVENT = 0x100;
    private static final long DEVICE_EVENT = 0x104;
    private static final long TABLE = 0x3000;
    private static final long TABLE2 = 0x3800;
    private static final long DATA = 0x8000;
    private static final int NO_ID = -1;

    /** Writes the bad input; may pop first (for rows that need earlier state). */
    @FunctionalInterface
    interface Setup
    {
        void write(PackedRingWriter writer, PackedQueue queue, DescriptorChain chain);
    }

    record Row(String name, boolean indirect, int maxSegments, Setup setup, int status, boolean broken, int id, int slots)
    {
        public String toString()
        {
            return name;
        }
    }

    private static Row chainError(final String name, final Setup setup, final int status, final int id, final int slots)
    {
        return new Row(name, true, SIZE, setup, status, false, id, slots);
    }

    private static Row ringError(final String name, final Setup setup, final int status)
    {
        return new Row(name, true, SIZE, setup, status, true, NO_ID, 0);
    }

    static List<Row> rows()
    {
        return List.of(
            ringError("direct chain longer than the queue size (never ends)", (w, q, c) ->
            {
                for (int slot = 0; slot < SIZE; slot++)
                {
                    w.writeRaw(slot, DATA, 1, 0, VIRTQ_DESC_F_NEXT | availBits(true));
                }
            }, ChainStatus.CHAIN_UNTERMINATED),
            ringError("chain runs into a descriptor that is not available", (w, q, c) ->
            {
                w.writeRaw(1, DATA, 1, 0, 0);
                w.writeRaw(0, DATA, 1, 0, VIRTQ_DESC_F_NEXT | availBits(true));
            }, ChainStatus.CHAIN_UNTERMINATED),
            ringError("chain runs into a descriptor of the previous lap", (w, q, c) ->
            {
                w.writeRaw(1, DATA, 1, 0, availBits(false));
                w.writeRaw(0, DATA, 1, 0, VIRTQ_DESC_F_NEXT | availBits(true));
            }, ChainStatus.CHAIN_UNTERMINATED),
            chainError("indirect table longer than the queue size", (w, q, c) ->
                w.postIndirect(2, TABLE, nine()), ChainStatus.CHAIN_TOO_LONG, 2, 1),
            chainError("indirect table of 0xFFFFFFF0 bytes", (w, q, c) ->
                w.post(2, raw(TABLE, 0xFFFF_FFF0, VIRTQ_DESC_F_INDIRECT)), ChainStatus.CHAIN_TOO_LONG, 2, 1),
            chainError("indirect len 0", (w, q, c) ->
                w.post(3, raw(TABLE, 0, VIRTQ_DESC_F_INDIRECT)), ChainStatus.INDIRECT_BAD_LENGTH, 3, 1),
            chainError("indirect len not a multiple of 16", (w, q, c) ->
                w.post(3, raw(TABLE, 24, VIRTQ_DESC_F_INDIRECT)), ChainStatus.INDIRECT_BAD_LENGTH, 3, 1),
            chainError("nested indirect", (w, q, c) ->
                w.postIndirect(4, TABLE, read(DATA, 8), raw(TABLE2, 16, VIRTQ_DESC_F_INDIRECT)),
                ChainStatus.NESTED_INDIRECT, 4, 1),
            chainError("INDIRECT with NEXT", (w, q, c) ->
                w.post(5, raw(TABLE, 16, VIRTQ_DESC_F_INDIRECT), read(DATA, 1)), ChainStatus.INDIRECT_WITH_NEXT, 5, 2),
            chainError("INDIRECT at the end of a NEXT chain", (w, q, c) ->
                w.post(5, read(DATA, 1), raw(TABLE, 16, VIRTQ_DESC_F_INDIRECT)), ChainStatus.INDIRECT_WITH_NEXT, 5, 2),
            chainError("readable after writable", (w, q, c) ->
                w.post(6, read(DATA, 4), write(DATA + 16, 4), read(DATA + 32, 4)),
                ChainStatus.READABLE_AFTER_WRITABLE, 6, 3),
            chainError("readable after writable inside an indirect table", (w, q, c) ->
                w.postIndirect(6, TABLE, write(DATA, 4), read(DATA, 4)), ChainStatus.READABLE_AFTER_WRITABLE, 6, 1),
            chainError("addr + len overflows past 2^63", (w, q, c) ->
                w.post(7, read(Long.MAX_VALUE - 4, 16)), ChainStatus.ADDRESS_OUT_OF_MEMORY, 7, 1),
            chainError("addr + len wraps past 2^64", (w, q, c) ->
                w.post(7, write(-8L, 16)), ChainStatus.ADDRESS_OUT_OF_MEMORY, 7, 1),
            chainError("len 0xFFFFFFFF", (w, q, c) ->
                w.post(7, read(DATA, -1)), ChainStatus.ADDRESS_OUT_OF_MEMORY, 7, 1),
            chainError("buffer runs past the end of guest memory", (w, q, c) ->
                w.post(7, read(MEMORY_SIZE - 8, 16)), ChainStatus.ADDRESS_OUT_OF_MEMORY, 7, 1),
            chainError("bad buffer in the middle of a chain", (w, q, c) ->
                w.post(1, read(DATA, 4), read(MEMORY_SIZE, 4), write(DATA, 4)), ChainStatus.ADDRESS_OUT_OF_MEMORY, 1, 3),
            chainError("indirect table outside guest memory", (w, q, c) ->
                w.post(0, raw(MEMORY_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT)), ChainStatus.ADDRESS_OUT_OF_MEMORY, 0, 1),
            chainError("indirect table address wraps", (w, q, c) ->
                w.post(0, raw(-16L, 32, VIRTQ_DESC_F_INDIRECT)), ChainStatus.ADDRESS_OUT_OF_MEMORY, 0, 1),
            chainError("indirect entry outside guest memory", (w, q, c) ->
                w.postIndirect(0, TABLE, read(DATA, 4), write(MEMORY_SIZE + 0x1000, 4)),
                ChainStatus.ADDRESS_OUT_OF_MEMORY, 0, 1),
            ringError("buffer id equal to the queue size", (w, q, c) -> w.post(SIZE, read(DATA, 1)),
                ChainStatus.HEAD_OUT_OF_RANGE),
            ringError("buffer id 0xFFFF", (w, q, c) -> w.post(0xFFFF, read(DATA, 1)), ChainStatus.HEAD_OUT_OF_RANGE),
            ringError("buffer id out of range in a chain with another error", (w, q, c) ->
                w.post(SIZE + 1, write(DATA, 1), read(DATA, 1)), ChainStatus.HEAD_OUT_OF_RANGE),
            ringError("buffer id still in flight", (w, q, c) ->
            {
                w.post(3, read(DATA, 1));
                assertEquals(ChainStatus.POPPED, q.pop(c));
                w.post(3, read(DATA, 1));
            }, ChainStatus.BUFFER_ID_IN_USE),
            new Row("INDIRECT when not negotiated", false, SIZE, (w, q, c) ->
                w.postIndirect(2, TABLE, read(DATA, 4)), ChainStatus.INDIRECT_NOT_NEGOTIATED, false, 2, 1),
            new Row("more segments than the chain object holds", true, 2, (w, q, c) ->
                w.post(2, read(DATA, 1), read(DATA, 1), read(DATA, 1)), ChainStatus.TOO_MANY_SEGMENTS, false, 2, 3),
            new Row("pop after broken", true, SIZE, (w, q, c) ->
            {
                w.post(SIZE, read(DATA, 1));
                assertEquals(ChainStatus.HEAD_OUT_OF_RANGE, q.pop(c));
                w.post(1, read(DATA, 1));
            }, ChainStatus.QUEUE_BROKEN, true, NO_ID, 0),
            new Row("head marked used (AVAIL == USED) is not available", true, SIZE, (w, q, c) ->
                w.writeRaw(0, DATA, 1, 0, (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) & 0xFFFF),
                ChainStatus.EMPTY, false, NO_ID, 0),
            new Row("zero-length descriptor with a wild address is skipped", true, SIZE, (w, q, c) ->
                w.post(4, raw(-1L, 0, 0), read(DATA, 1)), ChainStatus.POPPED, false, 4, 2),
            new Row("reserved flag bits are ignored", true, SIZE, (w, q, c) ->
                w.post(4, raw(DATA, 1, 0x0F00 | VIRTQ_DESC_F_WRITE)), ChainStatus.POPPED, false, 4, 1));
    }

    private static PackedRingWriter.Seg[] nine()
    {
        final PackedRingWriter.Seg[] segs = new PackedRingWriter.Seg[SIZE + 1];
        for (int i = 0; i < segs.length; i++)
        {
            segs[i] = read(DATA, 1);
        }
        return segs;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void malformedRingGetsAStatusNotAnException(final Row row)
    {
        final GuestMemory memory = GuestMemory.allocate(MEMORY_SIZE);
        final PackedQueue queue = new PackedQueue(memory, SIZE, RING, DRIVER_EVENT, DEVICE_EVENT, true, row.indirect());
        final PackedRingWriter writer = new PackedRingWriter(memory, RING, SIZE);
        final DescriptorChain chain = new DescriptorChain(row.maxSegments());
        row.setup().write(writer, queue, chain);
        final int inFlightBefore = queue.inFlight();

        final int status = assertDoesNotThrow(() -> queue.pop(chain));
        assertEquals(row.status(), status, () -> "got " + ChainStatus.describe(status));
        assertEquals(row.broken(), queue.isBroken());

        if (row.broken())
        {
            assertTrue(ChainStatus.isRingError(status));
            if (status != ChainStatus.QUEUE_BROKEN)
            {
                assertEquals(status, queue.brokenReason());
            }
            assertEquals(inFlightBefore, queue.inFlight(), "a ring error pops nothing");
            assertEquals(ChainStatus.QUEUE_BROKEN, queue.pop(chain));
            assertFalse(queue.hasAvailable());
            return;
        }
        if (status == ChainStatus.EMPTY)
        {
            assertEquals(0, queue.nextAvailIndex());
        }
        else
        {
            assertTrue(status == ChainStatus.POPPED || ChainStatus.isChainError(status));
            assertEquals(row.id(), chain.id());
            assertEquals(row.slots(), chain.descriptorCount());
            assertEquals(row.slots(), queue.nextAvailIndex());
            assertEquals(inFlightBefore + 1, queue.inFlight());
            queue.addUsed(chain.id(), 0);
            queue.publishUsed();
            assertTrue(writer.isUsed(0, true));
            assertEquals(row.id(), writer.idAt(0));
            assertEquals(0, writer.flagsAt(0) & VIRTQ_DESC_F_WRITE);
            assertEquals(row.slots(), queue.nextUsedIndex());
        }

        // The queue still works: the next good chain pops.
        writer.nextSlot = queue.nextAvailIndex();
        writer.wrap = queue.availWrapCounter();
        writer.post(SIZE - 1, read(DATA, 8), write(DATA + 8, 8));
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(SIZE - 1, chain.id());
        assertEquals(2, chain.segmentCount());
        assertFalse(queue.isBroken());
    }
}
