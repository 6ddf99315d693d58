package dev.braid.testkit.queue;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.PackedDriverQueue;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.testkit.driver.UsedConsumer;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.PackedQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random walks between the guest driver model and Braid's device-side queues: random chain
 * shapes (direct and indirect, mixed directions, the odd zero-length element), random queue sizes,
 * 16-bit index wrap, out-of-order completion with random written lengths, and notification and
 * interrupt suppression with and without EVENT_IDX.
 *
 * <p>What must hold: every chain is popped exactly once, in posting order, with exactly the
 * segments posted; every completion is reaped exactly once, in completion order, with its id and
 * length; neither side sees a fault; a device that went to sleep is always kicked, and a driver
 * that went to sleep is always interrupted. One walk replays with -Dbraid.seed=N; the number of
 * walks scales with -Dbraid.seeds.
 */
@ExtendWith(SeedExtension.class)
class RoundTripTest
{
    private static final long MEMORY_SIZE = 16L << 20;
    private static final long RING_BASE = 0x1000;
    private static final int MAX_SEGMENTS = 8;

    private static final int FREE = 0;
    private static final int POSTED = 1;
    private static final int POPPED = 2;
    private static final int COMPLETED = 3;

    @Test
    void splitRandomWalks(final Seed seed)
    {
        runWalks(seed, false, Math.max(1, seed.seeds()), 400);
    }

    @Test
    void packedRandomWalks(final Seed seed)
    {
        runWalks(seed, true, Math.max(1, seed.seeds()), 400);
    }

    @Test
    void splitLongWalksCrossTheIndexWrap(final Seed seed)
    {
        // Small rings and enough steps that the 16-bit indices wrap from wherever they start.
        runWalks(seed, false, Math.max(1, seed.seeds() / 2000), 0);
    }

    static void runWalks(final Seed runSeed, final boolean packed, final int walks, final int steps)
    {
        final long seed = runSeed.value();
        final GuestMemory memory = GuestMemory.allocate(MEMORY_SIZE);
        final SplittableRandom seeds = new SplittableRandom(seed);
        for (int i = 0; i < walks; i++)
        {
            final long walkSeed = seeds.nextLong();
            final SplittableRandom random = new SplittableRandom(walkSeed);
            final Walk walk = packed ? Walk.packed(memory, random) : Walk.split(memory, random, steps == 0);
            try
            {
                walk.run(steps);
            }
            catch (final AssertionError ex)
            {
                throw new AssertionError("walk " + i + " of seed=" + seed + " (" + walk + "): " + ex.getMessage(), ex);
            }
        }
    }

    /** One driver, one device, and what the test expects of both. */
    static final class Walk implements UsedConsumer
    {
        final SplittableRandom random;
        final GuestMemory memory;
        final DriverQueue driver;
        final DeviceQueue device;
        final boolean packed;
        final boolean eventIdx;
        final boolean indirect;
        final int size;
        final int maxIndirect;
        final long dataStart;
        final long dataEnd;
        final BufferChain chain = new BufferChain(MAX_SEGMENTS);
        final DescriptorChain popped = new DescriptorChain(MAX_SEGMENTS);

        // Per id: what was posted.
        final int[] state;
        final long[][] gpas;
        final int[][] lengths;
        final boolean[][] writable;
        final int[] segmentCount;
        final long[] writableBytes;
        final int[] slots;
        final int[] expectedLength;

        // Posting order (ids published, not popped) and completion order (ids added used, not reaped).
        final int[] postFifo;
        int postHead;
        int postTail;
        int unpublished;
        final int[] usedFifo;
        int usedHead;
        int usedTail;

        // Popped and not completed.
        final int[] inDevice;
        int inDeviceCount;

        long posted;
        long poppedTotal;
        long completedTotal;
        long reapedTotal;
        /** Buffers (split) or ring slots (packed) the device has published as used, in total. */
        long deviceUsed;

        boolean deviceSleeping;
        boolean deviceNotifyDisabled;
        boolean driverSleeping;
        boolean driverInterruptsDisabled;
        long driverWakeAt;

        long kicks;
        long interrupts;

        private Walk(
            final SplittableRandom random,
            final GuestMemory memory,
            final DriverQueue driver,
            final DeviceQueue device,
            final boolean packed,
            final boolean eventIdx,
            final boolean indirect)
        {
            this.random = random;
            this.memory = memory;
            this.driver = driver;
            this.device = device;
            this.packed = packed;
            this.eventIdx = eventIdx;
            this.indirect = indirect;
            this.size = driver.size();
            this.maxIndirect = driver.layout().maxIndirect();
            this.dataStart = RingLayout.alignUp(driver.layout().endGpa(), 16);
            this.dataEnd = MEMORY_SIZE;
            assertTrue(dataEnd - dataStart > 0x10000, "no room for buffers");
            state = new int[size];
            gpas = new long[size][MAX_SEGMENTS];
            lengths = new int[size][MAX_SEGMENTS];
            writable = new boolean[size][MAX_SEGMENTS];
            segmentCount = new int[size];
            writableBytes = new long[size];
            slots = new int[size];
            expectedLength = new int[size];
            postFifo = new int[size];
            usedFifo = new int[size];
            inDevice = new int[size];
        }

        static Walk split(final GuestMemory memory, final SplittableRandom random, final boolean small)
        {
            final int size;
            if (small)
            {
                size = 1 << random.nextInt(3, 7);
            }
            else
            {
                // Mostly small rings for speed; now and then anything up to 32768.
                size = 1 << (random.nextInt(50) == 0 ? random.nextInt(9, 16) : random.nextInt(0, 9));
            }
            final boolean eventIdx = random.nextBoolean();
            final boolean indirect = random.nextInt(4) != 0;
            final int maxIndirect = indirect ? random.nextInt(1, MAX_SEGMENTS + 1) : 0;
            final int startIndex = random.nextBoolean() ?
                (0x10000 - random.nextInt(1, 2 * size + 40)) & 0xFFFF : random.nextInt(0x10000);
            final RingLayout layout = RingLayout.split(RING_BASE, size, maxIndirect);
            final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, eventIdx, startIndex);
            final SplitQueue device = new SplitQueue(
                memory, size, layout.descGpa(), layout.availGpa(), layout.usedGpa(), eventIdx, indirect);
            device.startAt(startIndex, startIndex);
            return new Walk(random, memory, driver, device, false, eventIdx, indirect);
        }

        static Walk packed(final GuestMemory memory, final SplittableRandom random)
        {
            // Any size; mostly small so that the wrap counters flip many times per walk.
            final int pick = random.nextInt(100);
            final int size = pick < 90 ? random.nextInt(1, 65) : pick < 98 ? random.nextInt(65, 1025) : random.nextInt(1025, 32769);
            final boolean eventIdx = random.nextBoolean();
            final boolean indirect = random.nextInt(4) != 0;
            final int maxIndirect = indirect ? random.nextInt(1, MAX_SEGMENTS + 1) : 0;
            final RingLayout layout = RingLayout.packed(RING_BASE, size, maxIndirect);
            final PackedDriverQueue driver = new PackedDriverQueue(memory, layout, eventIdx);
            final PackedQueue device = new PackedQueue(
                memory, size, layout.descGpa(), layout.driverEventGpa(), layout.deviceEventGpa(), eventIdx, indirect);
            return new Walk(random, memory, driver, device, true, eventIdx, indirect);
        }

        /** Runs {@code steps} random actions, or with 0 until more than 2^16 chains went round. */
        void run(final int steps)
        {
            final long wrapTarget = 0x10000 + random.nextInt(size + 100);
            for (int step = 0; steps == 0 ? posted < wrapTarget : step < steps; step++)
            {
                final int action = random.nextInt(100);
                if (action < 35)
                {
                    post();
                }
                else if (action < 50)
                {
                    publish();
                }
                else if (action < 65)
                {
                    devicePop();
                }
                else if (action < 82)
                {
                    deviceComplete();
                }
                else if (action < 94)
                {
                    driverReap();
                }
                else
                {
                    driverInterruptMode();
                }
                assertFalse(device.isBroken(), () -> "device broke: " + ChainStatus.describe(device.brokenReason()));
                assertEquals(0, driver.deviceFaults(), "driver saw a device fault");
            }
            drain();
        }

        // ------------------------------------------------------------ driver

        void post()
        {
            final boolean asIndirect = indirect && random.nextBoolean();
            // No chain may be longer than the queue size, indirect tables included (2.7.5.3.1).
            final int limit = Math.min(size, asIndirect ? maxIndirect : MAX_SEGMENTS);
            final int n = random.nextInt(1, limit + 1);
            final int readable = random.nextInt(0, n + 1);
            chain.clear();
            for (int i = 0; i < n; i++)
            {
                final int length = random.nextInt(20) == 0 ? 0 : 1 + random.nextInt(random.nextBoolean() ? 64 : 65536);
                final long gpa = dataStart + random.nextLong(dataEnd - dataStart - length);
                chain.add(gpa, length, i >= readable);
            }
            final int freeBefore = driver.numFree();
            final int id = driver.addChain(chain, asIndirect);
            final int needed = asIndirect ? 1 : n;
            if (id == DriverQueue.NO_ROOM)
            {
                assertTrue(freeBefore < needed || driver.inFlight() == size, "NO_ROOM with room");
                return;
            }
            assertEquals(FREE, state[id], "driver handed out an id in use");
            state[id] = POSTED;
            int segs = 0;
            for (int i = 0; i < n; i++)
            {
                // The device drops zero-length elements: they describe no memory.
                if (chain.length(i) != 0)
                {
                    gpas[id][segs] = chain.gpa(i);
                    lengths[id][segs] = chain.length(i);
                    writable[id][segs] = chain.isWritable(i);
                    segs++;
                }
            }
            segmentCount[id] = segs;
            writableBytes[id] = chain.writableBytes();
            slots[id] = needed;
            postFifo[postTail] = id;
            postTail = (postTail + 1) % size;
            unpublished++;
            posted++;
        }

        void publish()
        {
            driver.publish();
            final boolean published = unpublished > 0;
            unpublished = 0;
            final boolean kick = driver.needsKick();
            if (!published)
            {
                assertFalse(kick, "kick with nothing published");
                return;
            }
            if (deviceSleeping)
            {
                assertTrue(kick, "device went to sleep and the driver did not kick it");
            }
            else if (deviceNotifyDisabled && (packed || !eventIdx))
            {
                // Split NO_NOTIFY and packed DISABLE are exact: a driver that honours them never kicks.
                assertFalse(kick, "kick although the device disabled notifications");
            }
            if (kick)
            {
                kicks++;
                deviceSleeping = false;
            }
        }

        void driverReap()
        {
            // A driver that polls is awake, whatever it asked for before.
            driverSleeping = false;
            driver.reap(this, random.nextInt(1, size + 1));
        }

        public void onUsed(final int id, final int len)
        {
            assertTrue(reapedTotal < completedTotal, "reaped more than was completed");
            final int expectedId = usedFifo[usedHead];
            assertEquals(expectedId, id, "used entries out of completion order");
            assertEquals(COMPLETED, state[id], "reaped an id that was not completed");
            assertEquals(expectedLength[id], len, "used length");
            usedHead = (usedHead + 1) % size;
            state[id] = FREE;
            reapedTotal++;
        }

        void driverInterruptMode()
        {
            final int choice = random.nextInt(3);
            if (choice == 0)
            {
                driverInterruptsDisabled = true;
                driverSleeping = false;
                driver.disableInterrupts();
                return;
            }
            driverInterruptsDisabled = false;
            // The sleep protocol: reap everything, ask for an interrupt, check once more, then sleep.
            driver.reap(this);
            final int after = eventIdx && choice == 2 ? random.nextInt(1, size + 1) : 1;
            if (eventIdx && choice == 2)
            {
                driver.interruptAfter(after);
            }
            else
            {
                driver.enableInterrupts();
            }
            if (driver.hasPendingUsed())
            {
                driverSleeping = false;
                return;
            }
            driverSleeping = true;
            driverWakeAt = deviceUsed + after;
        }

        // ------------------------------------------------------------ device

        void devicePop()
        {
            if (deviceSleeping)
            {
                return;
            }
            final int max = random.nextInt(1, size + 1);
            for (int i = 0; i < max; i++)
            {
                final int status = device.pop(popped);
                if (status == ChainStatus.EMPTY)
                {
                    assertEquals(posted - unpublished, poppedTotal, "device found nothing while chains were published");
                    if (random.nextBoolean())
                    {
                        deviceNotifyDisabled = false;
                        if (device.enableNotifications())
                        {
                            fail("enableNotifications saw chains that pop did not");
                        }
                        deviceSleeping = true;
                    }
                    return;
                }
                assertEquals(ChainStatus.POPPED, status, () -> "pop: " + ChainStatus.describe(status));
                checkPopped();
            }
            if (random.nextInt(4) == 0)
            {
                deviceNotifyDisabled = true;
                device.disableNotifications();
            }
        }

        void checkPopped()
        {
            assertTrue(poppedTotal < posted - unpublished, "popped more than was published");
            final int id = popped.id();
            assertEquals(postFifo[postHead], id, "chains popped out of posting order");
            postHead = (postHead + 1) % size;
            assertEquals(POSTED, state[id], "popped an id that was not posted");
            state[id] = POPPED;
            assertEquals(segmentCount[id], popped.segmentCount(), "segment count");
            long writableTotal = 0;
            for (int s = 0; s < segmentCount[id]; s++)
            {
                assertEquals(gpas[id][s], popped.address(s), "segment address");
                assertEquals(lengths[id][s], popped.length(s), "segment length");
                assertEquals(writable[id][s], popped.isWritable(s), "segment direction");
                if (writable[id][s])
                {
                    writableTotal += lengths[id][s] & 0xFFFF_FFFFL;
                }
            }
            assertEquals(writableBytes[id], popped.writableBytes());
            assertEquals(writableTotal, popped.writableBytes());
            inDevice[inDeviceCount++] = id;
            poppedTotal++;
        }

        void deviceComplete()
        {
            if (inDeviceCount == 0)
            {
                return;
            }
            final int batches = random.nextInt(1, 3);
            for (int b = 0; b < batches && inDeviceCount > 0; b++)
            {
                final int count = random.nextInt(1, inDeviceCount + 1);
                for (int i = 0; i < count; i++)
                {
                    final int index = random.nextInt(inDeviceCount);
                    final int id = inDevice[index];
                    inDevice[index] = inDevice[--inDeviceCount];
                    final long max = Math.min(writableBytes[id], Integer.MAX_VALUE);
                    final int len = max == 0 ? 0 : random.nextInt(4) == 0 ? (int)max : (int)random.nextLong(max + 1);
                    expectedLength[id] = len;
                    state[id] = COMPLETED;
                    device.addUsed(id, len);
                    usedFifo[usedTail] = id;
                    usedTail = (usedTail + 1) % size;
                    completedTotal++;
                    deviceUsed += packed ? slots[id] : 1;
                }
            }
            device.publishUsed();
            checkInterrupt();
        }

        void checkInterrupt()
        {
            final boolean irq = device.needsInterrupt();
            if (driverSleeping && deviceUsed >= driverWakeAt)
            {
                assertTrue(irq, "the driver waits for an interrupt that the device did not send");
            }
            if (driverInterruptsDisabled && (packed || !eventIdx))
            {
                assertFalse(irq, "interrupt although the driver disabled them");
            }
            if (irq)
            {
                interrupts++;
                driverSleeping = false;
            }
        }

        void drain()
        {
            publish();
            deviceSleeping = false;
            int status;
            while ((status = device.pop(popped)) == ChainStatus.POPPED)
            {
                checkPopped();
            }
            assertEquals(ChainStatus.EMPTY, status, ChainStatus.describe(status));
            while (inDeviceCount > 0)
            {
                deviceComplete();
            }
            driver.reap(this);
            assertEquals(posted, poppedTotal, "every posted chain popped");
            assertEquals(posted, completedTotal, "every chain completed");
            assertEquals(posted, reapedTotal, "every completion reaped");
            assertEquals(0, driver.inFlight());
            assertEquals(size, driver.numFree());
            assertEquals(0, device.inFlight());
            assertEquals(0, driver.deviceFaults());
            assertFalse(device.isBroken());
            assertFalse(driver.hasPendingUsed());
            assertFalse(device.hasAvailable());
            if (device instanceof PackedQueue)
            {
                assertEquals(0, ((PackedQueue)device).ignoredCompletions(), "device ignored completions");
            }
        }

        public String toString()
        {
            return (packed ? "packed" : "split") + " size=" + size + " eventIdx=" + eventIdx + " indirect=" + indirect +
                " maxIndirect=" + maxIndirect + " posted=" + posted + " popped=" + poppedTotal + " reaped=" + reapedTotal +
                " kicks=" + kicks + " interrupts=" + interrupts + " driver=" + driver + " device=" + device;
        }
    }
}
