package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each malformed chain is checked byte by byte against what the rule it breaks describes. */
class MalformedChainsTest
{
    private static final int SIZE = 8;
    private static final long SCRATCH = 0x8000;
    private final GuestMemory memory = GuestMemory.allocate(0x10000);
    private final SplitDriverQueue split = new SplitDriverQueue(memory, RingLayout.split(0x1000, SIZE, 4), false);
    private final MalformedChains bad = new MalformedChains(split, SCRATCH, 64);
    private final SplitDriverQueueTest.Recorder recorder = new SplitDriverQueueTest.Recorder();

    @Test
    void headOutOfRange()
    {
        assertEquals(SIZE, bad.headOutOfRange());
        assertEquals(SIZE, memory.getShort(0x1080 + 4));
        assertEquals(1, memory.getShort(0x1080 + 2));
    }

    @Test
    void availIndexJump()
    {
        split.addBuffer(SCRATCH, 1, false);
        assertEquals(SIZE + 2, bad.availIndexJump());
        assertEquals(SIZE + 2, memory.getShort(0x1080 + 2));
    }

    @Test
    void nextOutOfRangeIsReapable()
    {
        final int head = bad.nextOutOfRange();
        assertDesc(0x1000, head, SCRATCH, 16, 1, SIZE);
        assertEquals(1, memory.getShort(0x1080 + 2));
        completeSplit(head);
    }

    @Test
    void loopPointsBothWays()
    {
        final int head = bad.loop();
        assertDesc(0x1000, 0, SCRATCH, 16, 1, 1);
        assertDesc(0x1000, 1, SCRATCH + 16, 16, 1, 0);
        assertEquals(SIZE - 2, split.numFree());
        completeSplit(head);
    }

    @Test
    void indirectTableLengths()
    {
        final int zero = bad.indirectLengthZero();
        final long table0 = split.layout().indirectTableGpa(zero);
        assertDesc(0x1000, zero, table0, 0, 4, 0);
        final int twenty = bad.indirectLengthNotMultipleOf16();
        final long table1 = split.layout().indirectTableGpa(twenty);
        assertDesc(0x1000, twenty, table1, 20, 4, 0);
        assertDesc(table1, 0, SCRATCH, 16, 1, 1);
        completeSplit(zero);
    }

    @Test
    void nestedIndirectAndIndirectWithNext()
    {
        final int nested = bad.nestedIndirect();
        final long table = split.layout().indirectTableGpa(nested);
        assertDesc(0x1000, nested, table, 16, 4, 0);
        assertDesc(table, 0, SCRATCH, 16, 4, 0);
        final int withNext = bad.indirectWithNext();
        assertDesc(0x1000, withNext, split.layout().indirectTableGpa(withNext), 16, 4 | 1, withNext + 1);
        assertDesc(0x1000, withNext + 1, SCRATCH + 16, 16, 0, 0);
    }

    @Test
    void readableAfterWritableDirectAndIndirect()
    {
        final int direct = bad.readableAfterWritable(false);
        assertDesc(0x1000, direct, SCRATCH, 16, 2 | 1, direct + 1);
        assertDesc(0x1000, direct + 1, SCRATCH + 16, 16, 0, 0);
        final int indirect = bad.readableAfterWritable(true);
        final long table = split.layout().indirectTableGpa(indirect);
        assertDesc(0x1000, indirect, table, 32, 4, 0);
        assertDesc(table, 0, SCRATCH, 16, 2 | 1, 1);
        assertDesc(table, 1, SCRATCH + 16, 16, 0, 0);
    }

    @Test
    void addressesOutsideGuestMemory()
    {
        final int overflow = bad.addressOverflow(false);
        assertDesc(0x1000, overflow + 1, 0xFFFF_FFFF_FFFF_F000L, 0x2000, 0, 0);
        final int outside = bad.bufferOutsideMemory(true);
        assertEquals(0x10000, bad.outsideMemoryAddress());
        assertDesc(split.layout().indirectTableGpa(outside), 1, 0x10000, 16, 0, 0);
    }

    @Test
    void noRoomAndWrongRingKind()
    {
        while (split.addBuffer(SCRATCH, 1, false) != DriverQueue.NO_ROOM)
        {
        }
        assertEquals(DriverQueue.NO_ROOM, bad.loop());
        assertEquals(DriverQueue.NO_ROOM, bad.nestedIndirect());
        assertEquals(DriverQueue.NO_ROOM, bad.readableAfterWritable(true));
        assertThrows(UnsupportedOperationException.class, bad::bufferIdOutOfRange);
        assertThrows(UnsupportedOperationException.class, bad::chainNeverEnds);
        final MalformedChains noIndirect = new MalformedChains(
            new SplitDriverQueue(memory, RingLayout.split(0x4000, SIZE, 0), false), SCRATCH, 64);
        assertThrows(IllegalStateException.class, noIndirect::nestedIndirect);
        assertThrows(IllegalArgumentException.class, () -> new MalformedChains(split, 0xFFF0, 64));
    }

    @Test
    void packedMalformedChains()
    {
        final PackedDriverQueue packed = new PackedDriverQueue(memory, RingLayout.packed(0x4000, 4, 2), false);
        final MalformedChains badPacked = new MalformedChains(packed, SCRATCH, 64);
        assertThrows(UnsupportedOperationException.class, badPacked::loop);
        assertThrows(UnsupportedOperationException.class, badPacked::headOutOfRange);

        final int never = badPacked.chainNeverEnds();
        for (int slot = 0; slot < 4; slot++)
        {
            assertEquals(0x80 | 1, memory.getShort(0x4000 + 16 * slot + 14), "slot " + slot);
            assertEquals(never, memory.getShort(0x4000 + 16 * slot + 12));
        }
        assertEquals(0, packed.numFree());
        assertEquals(0, packed.availWrapCounter());
        // A device that completes it as a chain error frees the whole ring.
        memory.putShort(0x4000 + 12, (short)never);
        memory.putShortRelease(0x4000 + 14, (short)0x8080);
        assertEquals(1, packed.reap(recorder));
        assertEquals(4, packed.numFree());

        // Lap two (wrap 0): AVAIL clear, USED set.
        assertEquals(4, badPacked.bufferIdOutOfRange());
        assertEquals(4, memory.getShort(0x4000 + 12));
        assertEquals(0x8000, memory.getShort(0x4000 + 14) & 0xFFFF);

        final int withNext = badPacked.indirectWithNext();
        assertEquals(0x8000 | 4 | 1, memory.getShort(0x4000 + 16 + 14) & 0xFFFF);
        assertEquals(0x8000, memory.getShort(0x4000 + 32 + 14) & 0xFFFF);
        assertEquals(withNext, memory.getShort(0x4000 + 32 + 12));
        final int badLength = badPacked.indirectLengthNotMultipleOf16();
        assertEquals(20, memory.getInt(0x4000 + 48 + 8));
        assertEquals(0x8000 | 4, memory.getShort(0x4000 + 48 + 14) & 0xFFFF);
        assertEquals(badLength, memory.getShort(0x4000 + 48 + 12));
        assertEquals(0, packed.numFree());
    }

    private void completeSplit(final int head)
    {
        final int idx = split.usedIndex();
        memory.putInt(0x1098 + 4 + 8 * (idx % SIZE), head);
        memory.putInt(0x1098 + 4 + 8 * (idx % SIZE) + 4, 0);
        memory.putShortRelease(0x1098 + 2, (short)(idx + 1));
        final int before = split.numFree();
        assertEquals(1, split.reap(recorder));
        assertEquals(head, recorder.ids[recorder.count - 1]);
        assertEquals(0, split.deviceFaults());
        assertEquals(true, split.numFree() > before);
    }

    private void assertDesc(final long table, final int index, final long addr, final int len, final int flags, final int next)
    {
        final long gpa = table + 16L * index;
        assertEquals(addr, memory.getLong(gpa), "addr");
        assertEquals(len, memory.getInt(gpa + 8), "len");
        assertEquals(flags, memory.getShort(gpa + 12), "flags");
        assertEquals(next, memory.getShort(gpa + 14), "next");
    }
}
