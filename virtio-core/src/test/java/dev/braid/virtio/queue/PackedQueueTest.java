package dev.braid.virtio.queue;

import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.braid.virtio.queue.PackedRingDescriptor.RING_EVENT_FLAGS_DESC;
import static dev.braid.virtio.queue.PackedRingDescriptor.RING_EVENT_FLAGS_DISABLE;
import static dev.braid.virtio.queue.PackedRingDescriptor.RING_EVENT_FLAGS_ENABLE;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_WRITE;
import static dev.braid.virtio.queue.PackedRingWriter.read;
import static dev.braid.virtio.queue.PackedRingWriter.write;
import static org.junit.jupiter.api.Assertions.*;

class PackedQueueTest
{
    private static final long MEMORY_SIZE = 0x10000;
    private static final long RING = 0x1000;
    private static final long DRIVER_EVENT = 0x100;
    private static final long DEVICE_EVENT = 0x104;
    private static final long DATA = 0x8000;

    private final GuestMemory memory = GuestMemory.allocate(MEMORY_SIZE);

    private PackedQueue queue(final int size, final boolean eventIdx, final boolean indirect)
    {
        return new PackedQueue(memory, size, RING, DRIVER_EVENT, DEVICE_EVENT, eventIdx, indirect);
    }

    /** Pops {@code n} chains, each of which must come out whole. */
    private static void popChains(final PackedQueue q, final DescriptorChain chain, final int n)
    {
        for (int i = 0; i < n; i++)
        {
            assertEquals(ChainStatus.POPPED, q.pop(chain), "chain " + i);
        }
    }

    private static void completeAndPublish(final PackedQueue q, final int id, final int length)
    {
        q.addUsed(id, length);
        q.publishUsed();
    }

    // ---------------------------------------------------------------- layout

    @Test
    void checkLayoutAcceptsValidAndExplainsInvalid()
    {
        assertNull(PackedQueue.checkLayout(memory, 256, RING, DRIVER_EVENT, DEVICE_EVENT));
        assertNull(PackedQueue.checkLayout(memory, 3, RING, DRIVER_EVENT, DEVICE_EVENT), "not a power of two");
        assertNull(PackedQueue.checkLayout(memory, 1, MEMORY_SIZE - 16, DRIVER_EVENT, MEMORY_SIZE - 4));
        assertNotNull(PackedQueue.checkLayout(memory, 0, RING, DRIVER_EVENT, DEVICE_EVENT));
        assertNotNull(PackedQueue.checkLayout(memory, 32769, RING, DRIVER_EVENT, DEVICE_EVENT));
        assertNotNull(PackedQueue.checkLayout(memory, -1, RING, DRIVER_EVENT, DEVICE_EVENT));
        assertNotNull(PackedQueue.checkLayout(memory, 8, RING + 8, DRIVER_EVENT, DEVICE_EVENT));
        assertNotNull(PackedQueue.checkLayout(memory, 8, RING, DRIVER_EVENT + 2, DEVICE_EVENT));
        assertNotNull(PackedQueue.checkLayout(memory, 8, RING, DRIVER_EVENT, DEVICE_EVENT + 1));
        assertNotNull(PackedQueue.checkLayout(memory, 8, MEMORY_SIZE - 16 * 7, DRIVER_EVENT, DEVICE_EVENT));
        assertNotNull(PackedQueue.checkLayout(memory, 8, RING, MEMORY_SIZE, DEVICE_EVENT));
        assertNotNull(PackedQueue.checkLayout(memory, 8, RING, DRIVER_EVENT, -4));
        assertNotNull(PackedQueue.checkLayout(memory, 32768, Long.MAX_VALUE - 15, DRIVER_EVENT, DEVICE_EVENT));
        assertNotNull(PackedQueue.checkLayout(memory, 32768, -16, DRIVER_EVENT, DEVICE_EVENT));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> queue(0, false, false));
        assertTrue(ex.getMessage().contains("size"), ex.getMessage());
    }

    @Test
    void ringMaySpanAdjacentRegionsButNotCutADescriptor()
    {
        final GuestMemory twoRegions = GuestMemory.builder()
            .addAnonymous(0, 0x1000).addAnonymous(0x1000, 0x1000).build();
        assertNull(PackedQueue.checkLayout(twoRegions, 8, 0x1000 - 64, 0x100, 0x104));
        final GuestMemory oddCut = GuestMemory.builder()
            .addAnonymous(0, 0x1006).addAnonymous(0x1006, 0x1000).build();
        assertNotNull(PackedQueue.checkLayout(oddCut, 8, 0x1000 - 64, 0x100, 0x104));
        assertNotNull(PackedQueue.checkLayout(oddCut, 8, 0x100, 0x1004, 0x104), "event area spans regions");

        // Pop and complete across the region boundary, through several laps.
        final PackedQueue q = new PackedQueue(twoRegions, 8, 0x1000 - 64, 0x100, 0x104, false, false);
        final PackedRingWriter w = new PackedRingWriter(twoRegions, 0x1000 - 64, 8);
        final DescriptorChain chain = new DescriptorChain(8);
        for (int i = 0; i < 20; i++)
        {
            w.post(i % 8, read(0x1800 + i, 3), write(0x1900, 5));
            assertEquals(ChainStatus.POPPED, q.pop(chain));
            assertEquals(i % 8, chain.id());
            assertEquals(0x1800 + i, chain.address(0));
            completeAndPublish(q, chain.id(), 5);
        }
        assertEquals(40 % 8, q.nextUsedIndex());
        assertEquals(q.nextAvailIndex(), q.nextUsedIndex());
    }

    // ---------------------------------------------------------------- popping

    @Test
    void singleDescriptorChainsWrapTheRingAndFlipCounters()
    {
        final int size = 4;
        final PackedQueue q = queue(size, false, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);
        assertEquals(ChainStatus.EMPTY, q.pop(chain));
        assertFalse(q.hasAvailable());

        for (int lap = 0; lap < 3; lap++)
        {
            for (int i = 0; i < size; i++)
            {
                w.post(i, (i & 1) == 0 ? read(DATA + 64 * i, 64) : write(DATA + 64 * i, 32));
            }
            for (int i = 0; i < size; i++)
            {
                assertTrue(q.hasAvailable());
                assertEquals(ChainStatus.POPPED, q.pop(chain));
                assertEquals(i, chain.id());
                assertEquals(1, chain.descriptorCount());
                assertEquals(1, chain.segmentCount());
                assertEquals(DATA + 64 * i, chain.address(0));
                assertEquals((i & 1) == 0, !chain.isWritable(0));
            }
            assertEquals(ChainStatus.EMPTY, q.pop(chain));
            assertEquals(0, q.nextAvailIndex());
            assertEquals(lap % 2 == 1, q.availWrapCounter(), "flips once per lap");
            assertEquals(size, q.inFlight());
            for (int i = 0; i < size; i++)
            {
                q.addUsed(i, i);
            }
            q.publishUsed();
            assertEquals(0, q.inFlight());
            assertEquals(lap % 2 == 1, q.usedWrapCounter());
            final boolean usedWrapOfLap = lap % 2 == 0;
            for (int i = 0; i < size; i++)
            {
                assertTrue(w.isUsed(i, usedWrapOfLap), "slot " + i + " lap " + lap);
                assertEquals(i, w.idAt(i));
                assertEquals(i, w.lenAt(i));
                assertEquals(i != 0, (w.flagsAt(i) & VIRTQ_DESC_F_WRITE) != 0, "WRITE iff len > 0");
            }
        }
    }

    @Test
    void multiDescriptorChainCrossesRingEndAndTakesIdFromLastDescriptor()
    {
        final int size = 5;
        final PackedQueue q = queue(size, false, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);

        w.post(3, read(DATA, 16), read(DATA + 16, 16), write(DATA + 32, 16));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertEquals(3, chain.id());
        assertEquals(3, chain.descriptorCount());
        assertEquals(2, chain.readableCount());
        assertEquals(1, chain.writableCount());
        assertEquals(32, chain.readableBytes());
        assertEquals(16, chain.writableBytes());
        completeAndPublish(q, 3, 16);

        // Slots 3, 4, then 0, 1 on the next lap.
        w.post(1, read(DATA + 0x100, 1), read(DATA + 0x200, 2), write(DATA + 0x300, 3), write(DATA + 0x400, 4));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertEquals(1, chain.id());
        assertEquals(4, chain.descriptorCount());
        assertEquals(4, chain.segmentCount());
        for (int s = 0; s < 4; s++)
        {
            assertEquals(DATA + 0x100 * (s + 1), chain.address(s));
            assertEquals(s + 1, chain.length(s));
            assertEquals(s >= 2, chain.isWritable(s));
        }
        assertEquals(2, q.nextAvailIndex());
        assertFalse(q.availWrapCounter());
        assertEquals(ChainStatus.EMPTY, q.pop(chain));

        completeAndPublish(q, 1, 7);
        assertTrue(w.isUsed(3, true), "used descriptor overwrites the chain's first slot");
        assertEquals(1, w.idAt(3));
        assertEquals(7, w.lenAt(3));
        assertEquals(2, q.nextUsedIndex());
        assertFalse(q.usedWrapCounter());
    }

    @Test
    void indirectChainIsOneRingSlot()
    {
        final int size = 4;
        final PackedQueue q = queue(size, false, true);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(16);
        final long table = 0x3000;

        w.post(0, read(DATA, 8));
        w.postIndirect(2, table, read(DATA + 0x100, 100), read(DATA + 0x200, 200),
            PackedRingWriter.raw(DATA + 0x300, 300, VIRTQ_DESC_F_WRITE | 1 /* NEXT is ignored in a table */));
        w.post(1, write(DATA + 0x400, 8));

        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertEquals(2, chain.id());
        assertEquals(1, chain.descriptorCount());
        assertEquals(3, chain.segmentCount());
        assertEquals(2, chain.readableCount());
        assertEquals(300, chain.writableBytes());
        assertEquals(DATA + 0x300, chain.address(2));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertEquals(1, chain.id());
        assertEquals(3, q.nextAvailIndex());
    }

    @Test
    void indirectTablesAreReadFromWhicheverRegionHoldsThem()
    {
        // Regions: [0, 0x8000) small, [0x8000, 0x9000) smaller, [0x9000, 0x29000) the largest.
        // Tables in the largest region, in a small one, across the 0x9000 boundary, and half outside.
        final GuestMemory regions = GuestMemory.builder()
            .addAnonymous(0, 0x8000).addAnonymous(0x8000, 0x1000).addAnonymous(0x9000, 0x20000).build();
        final int size = 8;
        final PackedQueue q = new PackedQueue(regions, size, RING, DRIVER_EVENT, DEVICE_EVENT, false, true);
        final PackedRingWriter w = new PackedRingWriter(regions, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);
        final long[] tables = {0x10000, 0x8100, 0x9000 - 16, 0x29000 - 16};
        for (int id = 0; id < 3; id++)
        {
            w.postIndirect(id, tables[id], read(0x2000 + id, 10 + id), write(0xA000 + id, 20 + id));
        }
        for (int id = 0; id < 3; id++)
        {
            assertEquals(ChainStatus.POPPED, q.pop(chain), "table at 0x" + Long.toHexString(tables[id]));
            assertEquals(id, chain.id());
            assertEquals(2, chain.segmentCount());
            assertEquals(0x2000 + id, chain.address(0));
            assertEquals(10 + id, chain.readableBytes());
            assertEquals(0xA000 + id, chain.address(1));
            assertEquals(20 + id, chain.writableBytes());
        }
        // The last table's second entry would lie past the end of guest memory: nothing is read.
        regions.putLong(tables[3], 0x2000);
        regions.putInt(tables[3] + 8, 10);
        w.writeRaw(3, tables[3], 32, 3, PackedRingWriter.availBits(true) | PackedRingDescriptor.VIRTQ_DESC_F_INDIRECT);
        assertEquals(ChainStatus.ADDRESS_OUT_OF_MEMORY, q.pop(chain));
        assertEquals(3, chain.id());
        assertEquals(0, chain.segmentCount());
    }

    // ---------------------------------------------------------------- completion

    @Test
    void outOfOrderCompletionSkipsEachChainsSlots()
    {
        final int size = 8;
        final PackedQueue q = queue(size, false, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);

        w.post(5, read(DATA, 1));                                       // A: 1 slot
        w.post(6, read(DATA, 1), read(DATA, 1), write(DATA, 1));        // B: 3 slots
        w.post(7, read(DATA, 1), write(DATA, 1));                       // C: 2 slots
        popChains(q, chain, 3);
        assertEquals(3, q.inFlight());

        completeAndPublish(q, 7, 70);
        assertEquals(2, q.nextUsedIndex(), "C consumed 2 slots");
        completeAndPublish(q, 5, 50);
        assertEquals(3, q.nextUsedIndex());
        completeAndPublish(q, 6, 60);
        assertEquals(6, q.nextUsedIndex());
        assertEquals(0, q.inFlight());

        assertEquals(7, w.idAt(0));
        assertEquals(70, w.lenAt(0));
        assertEquals(5, w.idAt(2));
        assertEquals(6, w.idAt(3));
        assertTrue(w.isUsed(0, true) && w.isUsed(2, true) && w.isUsed(3, true));
        assertFalse(w.isUsed(1, true), "skipped slots stay as the driver left them");

        // Completing an id twice, or one never popped, is dropped, not written.
        q.addUsed(6, 1);
        q.addUsed(100, 1);
        q.addUsed(-1, 1);
        assertEquals(3, q.ignoredCompletions());
        assertEquals(6, q.nextUsedIndex());
    }

    @Test
    void batchWritesFirstFlagsLastOnPublish()
    {
        final int size = 4;
        final PackedQueue q = queue(size, false, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);
        w.post(0, write(DATA, 64));
        w.post(1, write(DATA, 64));
        w.post(2, write(DATA, 64));
        popChains(q, chain, 3);
        q.addUsed(2, 10);
        q.addUsed(0, 0);
        q.addUsed(1, 30);
        assertFalse(w.isUsed(0, true), "first of the batch is not visible before publish");
        assertEquals(2, w.idAt(0), "but its id is already written");
        assertTrue(w.isUsed(1, true));
        assertTrue(w.isUsed(2, true));
        assertEquals(0, w.flagsAt(1) & VIRTQ_DESC_F_WRITE, "len 0: no WRITE flag");
        assertNotEquals(0, w.flagsAt(2) & VIRTQ_DESC_F_WRITE);

        q.publishUsed();
        assertTrue(w.isUsed(0, true));
        assertNotEquals(0, w.flagsAt(0) & VIRTQ_DESC_F_WRITE);
        q.publishUsed();
        assertTrue(w.isUsed(0, true), "an empty publish changes nothing");
    }

    @Test
    void batchStartingAtRingEndUsesTheRightWrapForEachEntry()
    {
        final int size = 3;
        final PackedQueue q = queue(size, false, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);
        w.post(0, read(DATA, 1));
        w.post(1, read(DATA, 1));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        q.addUsed(0, 0);
        completeAndPublish(q, 1, 0);
        w.post(2, read(DATA, 1));
        w.post(0, read(DATA, 1));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        q.addUsed(0, 0);
        completeAndPublish(q, 2, 0);
        assertTrue(w.isUsed(2, true), "slot 2 used on lap 0");
        assertTrue(w.isUsed(0, false), "slot 0 used on lap 1");
        assertEquals(0, w.idAt(2));
        assertEquals(2, w.idAt(0));
    }

    // ---------------------------------------------------------------- event suppression

    private void driverEvent(final int flags, final int off, final boolean wrap)
    {
        memory.putInt(DRIVER_EVENT, (flags << 16) | off | (wrap ? 0x8000 : 0));
    }

    /** Posts, pops and publishes {@code n} single-slot chains. */
    private static void cycle(final PackedQueue q, final PackedRingWriter w, final int n)
    {
        final DescriptorChain chain = new DescriptorChain(1);
        for (int i = 0; i < n; i++)
        {
            w.post(i, read(DATA, 1));
        }
        popChains(q, chain, n);
        for (int i = 0; i < n; i++)
        {
            q.addUsed(i, 1);
        }
        q.publishUsed();
    }

    @Test
    void eventSuppressionEnableAndDisable()
    {
        final PackedQueue q = queue(8, true, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, 8);
        driverEvent(RING_EVENT_FLAGS_ENABLE, 0, false);
        assertFalse(q.needsInterrupt(), "nothing published");
        cycle(q, w, 2);
        assertTrue(q.needsInterrupt());
        assertFalse(q.needsInterrupt(), "window was reset");

        driverEvent(RING_EVENT_FLAGS_DISABLE, 0, false);
        cycle(q, w, 2);
        assertFalse(q.needsInterrupt());

        driverEvent(3, 0, false);
        cycle(q, w, 1);
        assertTrue(q.needsInterrupt(), "reserved flags value: interrupt rather than risk a hang");
    }

    @Test
    void eventSuppressionDescModeWithEventIdx()
    {
        final int size = 8;
        final PackedQueue q = queue(size, true, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);

        // Event at slot 3, lap 0 (wrap 1). Publishing slots 0..1 does not reach it.
        driverEvent(RING_EVENT_FLAGS_DESC, 3, true);
        cycle(q, w, 2);
        assertFalse(q.needsInterrupt());
        // Slots 2..4 cover slot 3.
        cycle(q, w, 3);
        assertTrue(q.needsInterrupt());
        // Slots 5..6: slot 3 of this lap is behind us.
        cycle(q, w, 2);
        assertFalse(q.needsInterrupt());
        // Event at slot 1 of the next lap (wrap 0): slots 7, 0 do not reach it; 1 does.
        driverEvent(RING_EVENT_FLAGS_DESC, 1, false);
        cycle(q, w, 2);
        assertFalse(q.needsInterrupt());
        assertEquals(1, q.nextUsedIndex());
        assertFalse(q.usedWrapCounter());
        cycle(q, w, 1);
        assertTrue(q.needsInterrupt());
        // The same offset with the other wrap bit names the lap after: not crossed yet.
        driverEvent(RING_EVENT_FLAGS_DESC, 3, true);
        cycle(q, w, 2);
        assertFalse(q.needsInterrupt(), "slots 2..3 of lap 1 do not match an event on lap 2");
        // Event exactly at the window start.
        driverEvent(RING_EVENT_FLAGS_DESC, 4, false);
        cycle(q, w, 1);
        assertTrue(q.needsInterrupt());
        // A window wrapping the ring end: slots 5, 6, 7, 0(lap 2); event at 0 with wrap 1.
        driverEvent(RING_EVENT_FLAGS_DESC, 0, true);
        cycle(q, w, 4);
        assertTrue(q.needsInterrupt());
        // An offset beyond the ring is a driver bug; interrupt rather than never.
        driverEvent(RING_EVENT_FLAGS_DESC, 100, true);
        cycle(q, w, 1);
        assertTrue(q.needsInterrupt());
    }

    @Test
    void descModeWithoutEventIdxActsAsEnable()
    {
        final PackedQueue q = queue(8, false, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, 8);
        driverEvent(RING_EVENT_FLAGS_DESC, 6, true);
        cycle(q, w, 1);
        assertTrue(q.needsInterrupt());
    }

    @Test
    void eventWindowAccumulatesAcrossPublishes()
    {
        final PackedQueue q = queue(8, true, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, 8);
        driverEvent(RING_EVENT_FLAGS_DESC, 2, true);
        cycle(q, w, 2);
        cycle(q, w, 2);
        assertTrue(q.needsInterrupt(), "slot 2 was published by the second batch of this window");
    }

    // ---------------------------------------------------------------- notifications

    @Test
    void notificationsWithoutEventIdx()
    {
        final PackedQueue q = queue(4, false, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, 4);
        q.disableNotifications();
        assertEquals(RING_EVENT_FLAGS_DISABLE, memory.getShort(DEVICE_EVENT + 2));
        assertFalse(q.enableNotifications());
        assertEquals(RING_EVENT_FLAGS_ENABLE, memory.getShort(DEVICE_EVENT + 2));
        q.disableNotifications();
        w.post(0, read(DATA, 1));
        assertTrue(q.enableNotifications(), "a chain arrived while disabled");
    }

    @Test
    void notificationsWithEventIdxPointAtNextAvail()
    {
        final int size = 4;
        final PackedQueue q = queue(size, true, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);
        assertFalse(q.enableNotifications());
        assertEquals(RING_EVENT_FLAGS_DESC, memory.getShort(DEVICE_EVENT + 2));
        assertEquals(0x8000, memory.getShort(DEVICE_EVENT) & 0xFFFF, "slot 0, wrap 1");

        q.disableNotifications();
        assertEquals(RING_EVENT_FLAGS_DISABLE, memory.getShort(DEVICE_EVENT + 2));
        w.post(0, read(DATA, 1), read(DATA, 1), read(DATA, 1));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        completeAndPublish(q, 0, 0);
        w.post(1, read(DATA, 1), read(DATA, 1));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertFalse(q.enableNotifications());
        assertEquals(RING_EVENT_FLAGS_DESC, memory.getShort(DEVICE_EVENT + 2));
        assertEquals(1, memory.getShort(DEVICE_EVENT) & 0xFFFF, "slot 1, wrap 0");
        w.post(2, read(DATA, 1));
        assertTrue(q.enableNotifications());
    }

    // ---------------------------------------------------------------- reset

    @Test
    void resetReturnsToInitialState()
    {
        final int size = 4;
        final PackedQueue q = queue(size, false, false);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);
        w.post(0, read(DATA, 1), read(DATA, 1), read(DATA, 1));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        completeAndPublish(q, 0, 0);
        w.post(1, read(DATA, 1), read(DATA, 1));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        w.post(size + 3, read(DATA, 1));
        assertEquals(ChainStatus.HEAD_OUT_OF_RANGE, q.pop(chain));
        assertTrue(q.isBroken());
        assertEquals(1, q.inFlight());
        assertFalse(q.availWrapCounter());

        q.reset();
        assertFalse(q.isBroken());
        assertEquals(0, q.brokenReason());
        assertEquals(0, q.inFlight());
        assertEquals(0, q.nextAvailIndex());
        assertEquals(0, q.nextUsedIndex());
        assertTrue(q.availWrapCounter());
        assertTrue(q.usedWrapCounter());

        // The driver resets too: a zeroed ring, then a fresh start.
        memory.setMemory(RING, 16L * size, (byte)0);
        final PackedRingWriter fresh = new PackedRingWriter(memory, RING, size);
        assertEquals(ChainStatus.EMPTY, q.pop(chain));
        fresh.post(1, read(DATA, 1));
        assertEquals(ChainStatus.POPPED, q.pop(chain));
        assertEquals(1, chain.id());
    }

    // ---------------------------------------------------------------- a driver model against the device

    @Test
    void randomizedDriverAndDeviceAgree()
    {
        final long seed = Long.getLong("braid.seed", System.nanoTime());
        System.out.println("PackedQueueTest.randomizedDriverAndDeviceAgree seed=" + seed);
        final int runs = Math.max(1, Integer.getInteger("braid.seeds", 2000) / 20);
        final SplittableRandom seeds = new SplittableRandom(seed);
        for (int run = 0; run < runs; run++)
        {
            final long runSeed = seeds.nextLong();
            try
            {
                runDriverModel(runSeed);
            }
            catch (final AssertionError ex)
            {
                throw new AssertionError("run seed " + runSeed + " (base seed=" + seed + ")", ex);
            }
        }
    }

    private void runDriverModel(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final int size = 1 + random.nextInt(16);
        final boolean indirect = random.nextBoolean();
        memory.setMemory(0, MEMORY_SIZE, (byte)0);
        final PackedQueue q = queue(size, random.nextBoolean(), indirect);
        final PackedRingWriter w = new PackedRingWriter(memory, RING, size);
        final DescriptorChain chain = new DescriptorChain(size);

        final int[] postedSlots = new int[size];
        final int[] postedSegments = new int[size];
        final ArrayDeque<Integer> freeIds = new ArrayDeque<>();
        for (int i = 0; i < size; i++)
        {
            freeIds.add(i);
        }
        final List<Integer> deviceHeld = new ArrayList<>();
        int freeSlots = size;
        int driverUsed = 0;
        boolean driverUsedWrap = true;
        long completed = 0;
        long posted = 0;

        for (int step = 0; step < 400; step++)
        {
            final int action = random.nextInt(4);
            if (action == 0 && !freeIds.isEmpty() && freeSlots > 0)
            {
                final int id = freeIds.poll();
                final boolean asIndirect = indirect && random.nextInt(3) == 0;
                final int segments = 1 + random.nextInt(asIndirect ? Math.min(4, size) : freeSlots);
                final PackedRingWriter.Seg[] segs = new PackedRingWriter.Seg[segments];
                final int readable = random.nextInt(segments + 1);
                for (int s = 0; s < segments; s++)
                {
                    segs[s] = s < readable ? read(DATA + 16 * s, 1 + s) : write(DATA + 16 * s, 1 + s);
                }
                if (asIndirect)
                {
                    w.postIndirect(id, 0x4000 + 0x100L * id, segs);
                    postedSlots[id] = 1;
                }
                else
                {
                    w.post(id, segs);
                    postedSlots[id] = segments;
                }
                postedSegments[id] = segments;
                freeSlots -= postedSlots[id];
                posted++;
            }
            else if (action == 1)
            {
                final int status = q.pop(chain);
                if (status == ChainStatus.POPPED)
                {
                    assertEquals(postedSlots[chain.id()], chain.descriptorCount());
                    assertEquals(postedSegments[chain.id()], chain.segmentCount());
                    deviceHeld.add(chain.id());
                }
                else
                {
                    assertEquals(ChainStatus.EMPTY, status);
                    assertFalse(q.hasAvailable());
                }
            }
            else if (action == 2 && !deviceHeld.isEmpty())
            {
                final int id = deviceHeld.remove(random.nextInt(deviceHeld.size()));
                q.addUsed(id, id + 1);
                if (random.nextBoolean())
                {
                    q.publishUsed();
                }
            }
            else
            {
                // The driver drains the used descriptors it can see.
                while (w.isUsed(driverUsed, driverUsedWrap))
                {
                    final int id = w.idAt(driverUsed);
                    assertTrue(id < size && !freeIds.contains(id) && !deviceHeld.contains(id), "id " + id);
                    assertEquals(id + 1, w.lenAt(driverUsed));
                    freeIds.add(id);
                    freeSlots += postedSlots[id];
                    driverUsed += postedSlots[id];
                    if (driverUsed >= size)
                    {
                        driverUsed -= size;
                        driverUsedWrap = !driverUsedWrap;
                    }
                    completed++;
                }
            }
            assertFalse(q.isBroken());
            assertEquals(deviceHeld.size(), q.inFlight());
        }
        assertTrue(completed <= posted);
    }
}
