package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks the split driver against ring bytes worked out by hand from the spec (2.7): offsets are
 * spelled out as numbers here, not taken from the constants under test.
 */
class SplitDriverQueueTest
{
    private static final int SIZE = 8;
    private final GuestMemory memory = GuestMemory.allocate(1 << 16);
    // desc 0x1000 (8 x 16), avail 0x1080 (22 bytes), used 0x1098 (70 bytes), indirect 0x10E0 (8 x 4 x 16)
    private final RingLayout layout = RingLayout.split(0x1000, SIZE, 4);
    private final Recorder recorder = new Recorder();

    @Test
    void layoutIsWhereTheSpecPutsIt()
    {
        assertEquals(0x1000, layout.descGpa());
        assertEquals(0x1080, layout.availGpa());
        assertEquals(0x1098, layout.usedGpa());
        assertEquals(0x10E0, layout.indirectGpa());
    }

    @Test
    void directChainBytesAndPublish()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, false);
        final BufferChain chain = new BufferChain(4).readable(0x8000, 16).readable(0x8100, 0x200).writable(0x9000, 1);
        final int head = queue.addChain(chain, false);
        assertEquals(0, head);
        assertEquals(SIZE - 3, queue.numFree());
        assertEquals(1, queue.inFlight());

        // Descriptor 0: addr, len, flags NEXT, next 1 - as raw little-endian bytes.
        assertArrayEquals(new byte[] {0x00, (byte)0x80, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0}, bytes(0x1000, 16));
        assertDesc(1, 0x8100, 0x200, 1, 2);
        // Last: WRITE only, next left 0.
        assertDesc(2, 0x9000, 1, 2, 0);
        // Ring entry written, index not yet published.
        assertEquals(0, memory.getShort(0x1080 + 4));
        assertEquals(0, memory.getShort(0x1080 + 2));
        queue.publish();
        assertEquals(1, memory.getShort(0x1080 + 2));
        assertEquals(1, queue.availIndex());
        assertEquals(0, memory.getShort(0x1080), "avail.flags stays 0");

        final int second = queue.addBuffer(0xA000, 64, true);
        assertEquals(3, second);
        assertDesc(3, 0xA000, 64, 2, 0);
        queue.publish();
        assertEquals(3, memory.getShort(0x1080 + 4 + 2));
        assertEquals(2, memory.getShort(0x1080 + 2));
    }

    @Test
    void indirectChainUsesOneDescriptorAndATable()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, false);
        queue.addBuffer(0x7000, 8, false);
        final BufferChain chain = new BufferChain(4).readable(0x8000, 16).writable(0x9000, 512).writable(0x9200, 1);
        final int head = queue.addChain(chain, true);
        assertEquals(1, head);
        assertEquals(SIZE - 2, queue.numFree());
        final long table = 0x10E0 + 1 * 4 * 16;
        assertDesc(1, table, 48, 4, 0);
        assertTableEntry(table, 0, 0x8000, 16, 1, 1);
        assertTableEntry(table, 1, 0x9000, 512, 1 | 2, 2);
        assertTableEntry(table, 2, 0x9200, 1, 2, 0);
        queue.publish();
        assertEquals(1, memory.getShort(0x1080 + 4 + 2));

        writeUsed(queue, 0, 1, 513);
        publishUsed(1);
        assertEquals(1, queue.reap(recorder));
        assertEquals(1, recorder.ids[0]);
        assertEquals(513, recorder.lens[0]);
        assertEquals(SIZE - 1, queue.numFree());
        assertEquals(0, queue.deviceFaults());

        final BufferChain tooLong = new BufferChain(5);
        for (int i = 0; i < 5; i++)
        {
            tooLong.readable(0x8000, 1);
        }
        assertThrows(IllegalArgumentException.class, () -> queue.addChain(tooLong, true));
    }

    @Test
    void reapDeliversOutOfOrderCompletionsAndFreesDescriptors()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, false);
        final BufferChain two = new BufferChain(2).readable(0x8000, 16).writable(0x9000, 100);
        assertEquals(0, queue.addChain(two, false));
        assertEquals(2, queue.addChain(two, false));
        assertEquals(4, queue.addChain(two, false));
        queue.publish();
        assertEquals(SIZE - 6, queue.numFree());

        // The device finishes the third chain first, then the first.
        writeUsed(queue, 0, 4, 100);
        writeUsed(queue, 1, 0, 7);
        publishUsed(2);
        assertTrue(queue.hasPendingUsed());
        assertEquals(2, queue.reap(recorder));
        assertEquals(4, recorder.ids[0]);
        assertEquals(100, recorder.lens[0]);
        assertEquals(0, recorder.ids[1]);
        assertEquals(7, recorder.lens[1]);
        assertFalse(queue.hasPendingUsed());
        assertEquals(SIZE - 2, queue.numFree());
        assertEquals(1, queue.inFlight());
        assertEquals(2, queue.usedIndex());

        // Freed descriptors are reused, last freed first: 0,1 then 4,5 then 6,7.
        assertEquals(0, queue.addChain(two, false));
        assertEquals(4, queue.addChain(two, false));
        assertEquals(6, queue.addChain(two, false));
        assertEquals(DriverQueue.NO_ROOM, queue.addChain(two, false));
        assertEquals(DriverQueue.NO_ROOM, queue.addBuffer(0x8000, 1, false));
        assertEquals(0, queue.numFree());
        assertEquals(0, queue.deviceFaults());
    }

    @Test
    void reapHonoursTheLimit()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, false);
        for (int i = 0; i < 3; i++)
        {
            queue.addBuffer(0x8000, 16, true);
        }
        queue.publish();
        for (int i = 0; i < 3; i++)
        {
            writeUsed(queue, i, i, 1);
        }
        publishUsed(3);
        assertEquals(2, queue.reap(recorder, 2));
        assertEquals(1, queue.reap(recorder, 2));
        assertEquals(0, queue.reap(recorder));
    }

    @Test
    void deviceFaultsAreCounted()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, false);
        queue.addBuffer(0x8000, 16, true);
        queue.addBuffer(0x8000, 16, false);
        queue.publish();
        writeUsed(queue, 0, 0, 17);
        writeUsed(queue, 1, 0, 0);
        writeUsed(queue, 2, 9, 0);
        writeUsed(queue, 3, 1, 1);
        publishUsed(4);
        assertEquals(2, queue.reap(recorder));
        assertEquals(4, queue.deviceFaults());
        assertEquals(DeviceFault.LENGTH_TOO_LONG, queue.lastDeviceFault());
        assertFalse(queue.broken());

        publishUsed(4 + SIZE + 1);
        assertEquals(0, queue.reap(recorder));
        assertTrue(queue.broken());
        assertEquals(DeviceFault.USED_INDEX_JUMP, queue.lastDeviceFault());

        queue.reset();
        assertFalse(queue.broken());
        assertEquals(0, queue.deviceFaults());
        assertEquals(SIZE, queue.numFree());
        assertEquals(0, memory.getShort(0x1098 + 2));
    }

    @Test
    void kickWithoutEventIdxFollowsNoNotify()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, false);
        assertFalse(queue.needsKick(), "nothing published");
        queue.addBuffer(0x8000, 16, false);
        assertFalse(queue.needsKick(), "added but not published");
        queue.publish();
        assertTrue(queue.needsKick());
        assertFalse(queue.needsKick(), "already decided for that batch");
        memory.putShort(0x1098, (short)1);
        queue.addBuffer(0x8000, 16, false);
        queue.publish();
        assertFalse(queue.needsKick());
    }

    @Test
    void kickWithEventIdxFollowsAvailEvent()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, true);
        final long availEvent = 0x1098 + 4 + 8 * SIZE;
        // The device wants a kick when entry 0 becomes available (avail_event = 0).
        queue.addBuffer(0x8000, 16, false);
        queue.publish();
        assertTrue(queue.needsKick());

        // The device is still busy: it asks to be kicked only at index 3.
        memory.putShort(availEvent, (short)3);
        queue.addBuffer(0x8000, 16, false);
        queue.publish();
        assertFalse(queue.needsKick(), "1 -> 2 does not pass 3");
        queue.addBuffer(0x8000, 16, false);
        queue.addBuffer(0x8000, 16, false);
        queue.publish();
        assertTrue(queue.needsKick(), "2 -> 4 passes 3");
        // The NO_NOTIFY flag means nothing under EVENT_IDX.
        memory.putShort(0x1098, (short)1);
        memory.putShort(availEvent, (short)4);
        queue.addBuffer(0x8000, 16, false);
        queue.publish();
        assertTrue(queue.needsKick());
    }

    @Test
    void interruptSuppressionWritesFlagsOrUsedEvent()
    {
        final SplitDriverQueue plain = new SplitDriverQueue(memory, layout, false);
        plain.disableInterrupts();
        assertEquals(1, memory.getShort(0x1080));
        plain.enableInterrupts();
        assertEquals(0, memory.getShort(0x1080));
        assertThrows(IllegalStateException.class, () -> plain.interruptAfter(2));

        final GuestMemory memory2 = GuestMemory.allocate(1 << 16);
        final SplitDriverQueue queue = new SplitDriverQueue(memory2, layout, true, 100);
        final long usedEvent = 0x1080 + 4 + 2 * SIZE;
        assertEquals(100, memory2.getShort(usedEvent));
        queue.interruptAfter(3);
        assertEquals(102, memory2.getShort(usedEvent));
        queue.disableInterrupts();
        assertEquals(99, memory2.getShort(usedEvent));
        assertEquals(0, memory2.getShort(0x1080), "flags stay 0 under EVENT_IDX");

        // Reaping while disabled keeps the event behind the used index.
        queue.addBuffer(0x8000, 16, false);
        queue.publish();
        memory2.putInt(0x1098 + 4 + 8 * (100 % SIZE), 0);
        memory2.putShort(0x1098 + 2, (short)101);
        assertEquals(1, queue.reap(recorder));
        assertEquals(100, memory2.getShort(usedEvent));
        queue.enableInterrupts();
        assertEquals(101, memory2.getShort(usedEvent));
        assertThrows(IllegalArgumentException.class, () -> queue.interruptAfter(0));
        assertThrows(IllegalArgumentException.class, () -> queue.interruptAfter(SIZE + 1));
    }

    @Test
    void startIndexWrapsAt65536()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, true, 0xFFFE);
        assertEquals(0xFFFE, memory.getShort(0x1080 + 2) & 0xFFFF);
        assertEquals(0xFFFE, memory.getShort(0x1098 + 2) & 0xFFFF);
        assertEquals(0xFFFE, queue.availIndex());
        assertEquals(0xFFFE, queue.usedIndex());
        for (int i = 0; i < 4; i++)
        {
            assertEquals(i, queue.addBuffer(0x8000 + i * 0x100, 16, true));
        }
        queue.publish();
        assertEquals(2, queue.availIndex());
        assertEquals(2, memory.getShort(0x1080 + 2));
        // Ring positions 0xFFFE & 7 = 6, 7, then 0, 1.
        assertEquals(0, memory.getShort(0x1080 + 4 + 2 * 6));
        assertEquals(1, memory.getShort(0x1080 + 4 + 2 * 7));
        assertEquals(2, memory.getShort(0x1080 + 4 + 2 * 0));
        assertEquals(3, memory.getShort(0x1080 + 4 + 2 * 1));
        // avail_event 0xFFFF lies in [0xFFFE, 2).
        memory.putShort(0x1098 + 4 + 8 * SIZE, (short)0xFFFF);
        assertTrue(queue.needsKick());

        memory.putInt(0x1098 + 4 + 8 * 6, 3);
        memory.putInt(0x1098 + 4 + 8 * 6 + 4, 16);
        memory.putInt(0x1098 + 4 + 8 * 7, 1);
        memory.putInt(0x1098 + 4 + 8 * 0, 0);
        memory.putShort(0x1098 + 2, (short)1);
        assertEquals(3, queue.reap(recorder));
        assertEquals(3, recorder.ids[0]);
        assertEquals(16, recorder.lens[0]);
        assertEquals(1, recorder.ids[1]);
        assertEquals(0, recorder.ids[2]);
        assertEquals(1, queue.usedIndex());
        assertEquals(1, memory.getShort(0x1080 + 4 + 2 * SIZE), "used_event follows the reaped index");
        assertEquals(0, queue.deviceFaults());
    }

    @Test
    void misuseIsRejected()
    {
        final SplitDriverQueue queue = new SplitDriverQueue(memory, layout, false);
        assertThrows(IllegalArgumentException.class, () -> queue.addChain(new BufferChain(2), false));
        assertThrows(IllegalArgumentException.class,
            () -> queue.addChain(new BufferChain(2).writable(0x8000, 1).readable(0x8000, 1), false));
        assertThrows(IllegalArgumentException.class, () -> new SplitDriverQueue(memory, RingLayout.packed(0x1000, 8, 0), false));
        assertThrows(IllegalArgumentException.class, () -> new SplitDriverQueue(memory, layout, false, 0x10000));
        assertThrows(IllegalArgumentException.class,
            () -> new SplitDriverQueue(GuestMemory.allocate(0x1100), layout, false));
        assertEquals(SIZE, queue.numFree());
    }

    // ---------------------------------------------------------------- helpers

    private void writeUsed(final SplitDriverQueue queue, final int position, final int id, final int len)
    {
        final long element = 0x1098 + 4 + 8L * ((queue.startIndex() + position) % SIZE);
        memory.putInt(element, id);
        memory.putInt(element + 4, len);
    }

    private void publishUsed(final int idx)
    {
        memory.putShortRelease(0x1098 + 2, (short)idx);
    }

    private void assertDesc(final int index, final long addr, final int len, final int flags, final int next)
    {
        assertTableEntry(0x1000, index, addr, len, flags, next);
    }

    private void assertTableEntry(final long table, final int index, final long addr, final int len, final int flags, final int next)
    {
        final long gpa = table + 16L * index;
        assertEquals(addr, memory.getLong(gpa), "addr of " + index);
        assertEquals(len, memory.getInt(gpa + 8), "len of " + index);
        assertEquals(flags, memory.getShort(gpa + 12), "flags of " + index);
        assertEquals(next, memory.getShort(gpa + 14), "next of " + index);
    }

    private byte[] bytes(final long gpa, final int length)
    {
        final byte[] out = new byte[length];
        memory.getBytes(gpa, out, 0, length);
        return out;
    }

    static final class Recorder implements UsedConsumer
    {
        final int[] ids = new int[1024];
        final int[] lens = new int[1024];
        int count;

        public void onUsed(final int id, final int len)
        {
            ids[count] = id;
            lens[count] = len;
            count++;
        }
    }
}
