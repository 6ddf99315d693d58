package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks the packed driver against ring bytes worked out by hand from the spec (2.8). AVAIL is
 * bit 7 (0x80), USED bit 15 (0x8000); offsets are spelled out as numbers.
 */
class PackedDriverQueueTest
{
    private static final int SIZE = 4;
    private static final int AVAIL = 0x80;
    private static final int USED = 0x8000;
    private final GuestMemory memory = GuestMemory.allocate(1 << 16);
    // desc 0x1000 (4 x 16), driver event 0x1040, device event 0x1044, indirect 0x1050 (4 x 4 x 16)
    private final RingLayout layout = RingLayout.packed(0x1000, SIZE, 4);
    private final SplitDriverQueueTest.Recorder recorder = new SplitDriverQueueTest.Recorder();

    @Test
    void layoutIsWhereTheSpecPutsIt()
    {
        assertEquals(0x1000, layout.descGpa());
        assertEquals(0x1040, layout.driverEventGpa());
        assertEquals(0x1044, layout.deviceEventGpa());
        assertEquals(0x1050, layout.indirectGpa());
    }

    @Test
    void chainHeadBecomesAvailableOnlyOnPublish()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, false);
        final BufferChain chain = new BufferChain(2).readable(0x8000, 16).writable(0x9000, 0x100);
        assertEquals(0, queue.addChain(chain, false));
        // Second descriptor: WRITE with AVAIL=1, USED=0 for wrap counter 1, written at once.
        assertArrayEquals(new byte[] {0, (byte)0x90, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, (byte)0x82, 0}, bytes(0x1010, 16));
        // Head: everything but the flags.
        assertEquals(0x8000, memory.getLong(0x1000));
        assertEquals(16, memory.getInt(0x1008));
        assertEquals(0, memory.getShort(0x100C));
        assertEquals(0, memory.getShort(0x100E), "head not available before publish");
        queue.publish();
        assertEquals(AVAIL | 1, memory.getShort(0x100E));
        assertEquals(2, queue.nextAvailSlot());
        assertEquals(SIZE - 2, queue.numFree());
        assertEquals(1, queue.inFlight());
    }

    @Test
    void wrapCounterFlipsAfterSizeDescriptors()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, false);
        for (int round = 0; round < 3; round++)
        {
            final int id = queue.addBuffer(0x8000 + round, 8, true);
            queue.publish();
            final int slot = round;
            assertEquals(AVAIL | 2, memory.getShort(0x1000 + 16 * slot + 14) & 0xFFFF);
            completeAt(slot, id, 8, 1);
            assertEquals(1, queue.reap(recorder));
        }
        // Slot 3 is the last of lap one; a two-descriptor chain wraps into slot 0 of lap two.
        final BufferChain chain = new BufferChain(2).readable(0xA000, 4).writable(0xB000, 4);
        final int id = queue.addChain(chain, false);
        assertEquals(0, queue.availWrapCounter(), "flipped after making slot 3 available");
        assertEquals(1, queue.nextAvailSlot());
        // Slot 0 (lap two, wrap 0): AVAIL=0, USED=1 plus WRITE, written before the head.
        assertEquals(USED | 2, memory.getShort(0x1000 + 14) & 0xFFFF);
        assertEquals(id, memory.getShort(0x1000 + 12));
        queue.publish();
        // Head in slot 3 still carries lap one's bits.
        assertEquals(AVAIL | 1, memory.getShort(0x1000 + 16 * 3 + 14) & 0xFFFF);

        // The device completes it in slot 3 with wrap 1; the driver skips two slots and flips.
        completeAt(3, id, 4, 1);
        assertEquals(1, queue.reap(recorder));
        assertEquals(1, queue.nextUsedSlot());
        assertEquals(0, queue.usedWrapCounter());
        assertEquals(SIZE, queue.numFree());

        // A used descriptor in slot 1 with lap one's wrap bit is stale, not new.
        memory.putShort(0x1000 + 16 + 14, (short)(AVAIL | USED));
        assertFalse(queue.hasPendingUsed());
        final int next = queue.addBuffer(0xC000, 4, true);
        queue.publish();
        assertEquals(USED | 2, memory.getShort(0x1000 + 16 + 14) & 0xFFFF);
        completeAt(1, next, 3, 0);
        assertTrue(queue.hasPendingUsed());
        assertEquals(1, queue.reap(recorder));
        assertEquals(0, queue.deviceFaults());
    }

    @Test
    void reapSkipsChainLengthsAndHonoursOutOfOrderIds()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, false);
        final BufferChain two = new BufferChain(2).readable(0x8000, 16).writable(0x9000, 100);
        final int a = queue.addChain(two, false);
        final int b = queue.addBuffer(0x9100, 50, true);
        queue.publish();
        assertEquals(0, a);
        assertEquals(1, b);
        assertEquals(DriverQueue.NO_ROOM, queue.addChain(two, false), "one slot left");
        // The device completes b first (in slot 0) then a (slot 0 + b's one slot = 1).
        completeAt(0, b, 50, 1);
        completeAt(1, a, 99, 1);
        assertEquals(2, queue.reap(recorder));
        assertEquals(b, recorder.ids[0]);
        assertEquals(50, recorder.lens[0]);
        assertEquals(a, recorder.ids[1]);
        assertEquals(99, recorder.lens[1]);
        assertEquals(3, queue.nextUsedSlot());
        assertEquals(SIZE, queue.numFree());
        assertEquals(0, queue.inFlight());
        // Ids come back last freed first.
        assertEquals(a, queue.addBuffer(0x8000, 1, false));
    }

    @Test
    void usedLengthIsReservedWithoutWriteFlag()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, false);
        final int id = queue.addBuffer(0x8000, 64, true);
        queue.publish();
        memory.putShort(0x1000 + 12, (short)id);
        memory.putInt(0x1000 + 8, 40);
        memory.putShortRelease(0x1000 + 14, (short)(AVAIL | USED));
        assertEquals(1, queue.reap(recorder));
        assertEquals(0, recorder.lens[0]);
    }

    @Test
    void unknownIdBreaksTheRing()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, false);
        queue.addBuffer(0x8000, 64, true);
        queue.publish();
        completeAt(0, 3, 0, 1);
        assertEquals(0, queue.reap(recorder));
        assertTrue(queue.broken());
        assertEquals(DeviceFault.UNKNOWN_ID, queue.lastDeviceFault());
        queue.reset();
        assertFalse(queue.broken());
        assertEquals(0, memory.getShort(0x1000 + 14));
    }

    @Test
    void indirectTableHoldsOnlyWriteFlags()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, false);
        final BufferChain chain = new BufferChain(3).readable(0x8000, 16).writable(0x9000, 32).writable(0x9100, 1);
        final int id = queue.addChain(chain, true);
        queue.publish();
        final long table = 0x1050 + (long)id * 4 * 16;
        assertEquals(table, memory.getLong(0x1000));
        assertEquals(48, memory.getInt(0x1008));
        assertEquals(id, memory.getShort(0x100C));
        assertEquals(AVAIL | 4, memory.getShort(0x100E));
        assertEquals(0x8000, memory.getLong(table));
        assertEquals(16, memory.getInt(table + 8));
        assertEquals(0, memory.getInt(table + 12), "id 0, flags 0");
        assertEquals(0x9000, memory.getLong(table + 16));
        assertEquals(2, memory.getShort(table + 16 + 14));
        assertEquals(2, memory.getShort(table + 32 + 14));
        assertEquals(SIZE - 1, queue.numFree());
    }

    @Test
    void kickFollowsDeviceEventSuppression()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, true);
        queue.addBuffer(0x8000, 1, false);
        queue.publish();
        assertTrue(queue.needsKick(), "ENABLE (0) by default");
        assertFalse(queue.needsKick());

        memory.putInt(0x1044, 1 << 16);
        queue.addBuffer(0x8000, 1, false);
        queue.publish();
        assertFalse(queue.needsKick(), "DISABLE");

        // DESC: kick when slot 3 of wrap 1 is made available. Slot 2 alone does not reach it.
        memory.putInt(0x1044, 2 << 16 | 1 << 15 | 3);
        queue.addBuffer(0x8000, 1, false);
        queue.publish();
        assertFalse(queue.needsKick());
        queue.addBuffer(0x8000, 1, false);
        queue.publish();
        assertTrue(queue.needsKick());

        // Free everything, then publish slots 0 and 1 of lap two (wrap 0).
        for (int slot = 0; slot < SIZE; slot++)
        {
            completeAt(slot, memory.getShort(0x1000 + 16 * slot + 12), 0, 1);
        }
        assertEquals(SIZE, queue.reap(recorder));
        memory.putInt(0x1044, 2 << 16 | 0 << 15 | 1);
        queue.addBuffer(0x8000, 1, false);
        queue.publish();
        assertFalse(queue.needsKick(), "slot 0 of lap two does not reach slot 1");
        queue.addBuffer(0x8000, 1, false);
        queue.publish();
        assertTrue(queue.needsKick(), "slot 1 of lap two");
        // An event left in lap one (wrap 1, slot 3) was passed long ago: no kick.
        memory.putInt(0x1044, 2 << 16 | 1 << 15 | 3);
        queue.addBuffer(0x8000, 1, false);
        queue.publish();
        assertFalse(queue.needsKick());
    }

    @Test
    void kickWithoutEventIdxTreatsDescAsEnable()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, false);
        memory.putInt(0x1044, 2 << 16 | 3);
        queue.addBuffer(0x8000, 1, false);
        queue.publish();
        assertTrue(queue.needsKick());
    }

    @Test
    void interruptSuppressionWritesDriverEvent()
    {
        final PackedDriverQueue queue = new PackedDriverQueue(memory, layout, true);
        queue.disableInterrupts();
        assertEquals(0, memory.getShort(0x1040));
        assertEquals(1, memory.getShort(0x1042));
        queue.enableInterrupts();
        assertEquals(0, memory.getInt(0x1040));
        queue.interruptAfter(2);
        assertEquals(1 << 15 | 1, memory.getShort(0x1040) & 0xFFFF);
        assertEquals(2, memory.getShort(0x1042));
        // From used slot 0: four slots on is slot 3 of the same lap, five would wrap.
        queue.interruptAfter(4);
        assertEquals(1 << 15 | 3, memory.getShort(0x1040) & 0xFFFF);
        for (int i = 0; i < 3; i++)
        {
            final int id = queue.addBuffer(0x8000, 1, true);
            queue.publish();
            completeAt(i, id, 1, 1);
        }
        assertEquals(3, queue.reap(recorder));
        queue.interruptAfter(2);
        assertEquals(0, memory.getShort(0x1040) & 0xFFFF, "slot 3 + 1 wraps to slot 0 of wrap 0");
        assertThrows(IllegalStateException.class, () -> new PackedDriverQueue(memory, layout, false).interruptAfter(1));
    }

    @Test
    void oddSizesWork()
    {
        final RingLayout odd = RingLayout.packed(0x2000, 3, 0);
        final PackedDriverQueue queue = new PackedDriverQueue(memory, odd, false);
        for (int i = 0; i < 10; i++)
        {
            final int id = queue.addBuffer(0x8000, 1, true);
            queue.publish();
            final int slot = i % 3;
            final long desc = 0x2000 + 16L * slot;
            final int wrap = (i / 3) % 2 == 0 ? 1 : 0;
            assertEquals((wrap == 1 ? AVAIL : USED) | 2, memory.getShort(desc + 14) & 0xFFFF);
            memory.putShort(desc + 12, (short)id);
            memory.putShortRelease(desc + 14, (short)(wrap == 1 ? AVAIL | USED | 2 : 2));
            assertEquals(1, queue.reap(recorder));
        }
        assertEquals(0, queue.deviceFaults());
    }

    // ---------------------------------------------------------------- helpers

    /** Writes a used descriptor as a device with wrap counter {@code wrap} would. */
    private void completeAt(final int slot, final int id, final int len, final int wrap)
    {
        final long desc = 0x1000 + 16L * slot;
        memory.putShort(desc + 12, (short)id);
        memory.putInt(desc + 8, len);
        memory.putShortRelease(desc + 14, (short)((wrap == 1 ? AVAIL | USED : 0) | 2));
    }

    private byte[] bytes(final long gpa, final int length)
    {
        final byte[] out = new byte[length];
        memory.getBytes(gpa, out, 0, length);
        return out;
    }
}
