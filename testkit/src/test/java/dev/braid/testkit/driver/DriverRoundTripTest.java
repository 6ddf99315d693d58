package dev.braid.testkit.driver;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random walks of add / publish / pop / out-of-order complete / reap between the driver model and
 * a minimal test device: every posted chain reaches the device as posted and comes back exactly
 * once, and the driver ends with every descriptor free. Replay one walk with -Dbraid.seed=N.
 */
@ExtendWith(SeedExtension.class)
class DriverRoundTripTest
{
    private static final long BUFFERS = 0x40000;

    @Test
    void randomWalksAgreeWithTheDevice(final Seed seed)
    {
        final int walks = Math.max(1, seed.seeds() / 10);
        final SplittableRandom seeds = new SplittableRandom(seed.value());
        for (int walk = 0; walk < walks; walk++)
        {
            final long walkSeed = seeds.nextLong();
            try
            {
                runWalk(new SplittableRandom(walkSeed));
            }
            catch (final AssertionError ex)
            {
                throw new AssertionError("walk seed " + walkSeed + " (run seed " + seed.value() + "): " + ex.getMessage(), ex);
            }
        }
    }

    private static void runWalk(final SplittableRandom random)
    {
        final GuestMemory memory = GuestMemory.allocate(0x80000);
        final boolean packed = random.nextBoolean();
        final boolean eventIdx = random.nextBoolean();
        final int maxIndirect = random.nextInt(0, 5);
        final DriverQueue queue;
        if (packed)
        {
            queue = new PackedDriverQueue(memory, RingLayout.packed(0x1000, random.nextInt(1, 20), maxIndirect), eventIdx);
        }
        else
        {
            final int size = 1 << random.nextInt(0, 6);
            queue = new SplitDriverQueue(memory, RingLayout.split(0x1000, size, maxIndirect), eventIdx,
                random.nextBoolean() ? 0xFFFF - random.nextInt(0, 40) : random.nextInt(0x10000));
        }
        final int size = queue.size();
        final TestDevice device = TestDevice.of(queue);
        final Checker checker = new Checker(device, size);
        final BufferChain chain = new BufferChain(8);
        final int[] postedSegs = new int[size];
        final long[] postedFirst = new long[size];
        final long[] postedWritable = new long[size];
        int published = 0;
        int popped = 0;

        for (int step = 0; step < 400; step++)
        {
            final int action = random.nextInt(10);
            if (action < 4)
            {
                final boolean indirect = maxIndirect > 0 && random.nextBoolean();
                // An indirect table, like any descriptor list, holds at most `size` entries.
                final int n = random.nextInt(1, Math.min(Math.min(indirect ? maxIndirect : 4, size), 8) + 1);
                final int readable = random.nextInt(0, n + 1);
                chain.clear();
                for (int i = 0; i < n; i++)
                {
                    chain.add(BUFFERS + random.nextInt(0x1000) * 16L, random.nextInt(1, 4096), i >= readable);
                }
                final int freeBefore = queue.numFree();
                final int id = queue.addChain(chain, indirect);
                if (id == DriverQueue.NO_ROOM)
                {
                    assertTrue(freeBefore < (indirect ? 1 : n) || queue.inFlight() == size, "room was there");
                    continue;
                }
                assertEquals(freeBefore - (indirect ? 1 : n), queue.numFree());
                assertTrue(!checker.outstanding[id], "id handed out twice");
                checker.outstanding[id] = true;
                postedSegs[id] = n;
                postedFirst[id] = chain.gpa(0);
                postedWritable[id] = chain.writableBytes();
            }
            else if (action < 6)
            {
                queue.publish();
                queue.needsKick();
                published++;
            }
            else if (action < 7)
            {
                final int before = device.poppedCount;
                device.popAll();
                for (int i = before; i < device.poppedCount; i++)
                {
                    final int id = device.popped[i];
                    assertTrue(checker.outstanding[id], "device popped an id not posted");
                    assertEquals(postedSegs[id], device.segments[id]);
                    assertEquals(postedFirst[id], device.firstGpa[id]);
                    assertEquals(postedWritable[id], device.writable[id]);
                    popped++;
                }
            }
            else if (action < 9)
            {
                if (device.poppedCount > 0)
                {
                    final int index = random.nextInt(device.poppedCount);
                    final int id = device.popped[index];
                    final int len = (int)Math.min(device.writable[id], random.nextInt(0, 5000));
                    checker.expectedLen[id] = len;
                    checker.completed[id] = true;
                    device.complete(index, len);
                }
            }
            else
            {
                queue.reap(checker, random.nextInt(1, size + 1));
            }
        }
        // Drain.
        queue.publish();
        device.popAll();
        while (device.poppedCount > 0)
        {
            final int id = device.popped[0];
            checker.expectedLen[id] = 0;
            checker.completed[id] = true;
            device.complete(0, 0);
        }
        queue.reap(checker);
        assertEquals(0, queue.inFlight(), queue.toString());
        assertEquals(size, queue.numFree(), queue.toString());
        assertEquals(0, queue.deviceFaults());
        assertTrue(published >= 0 && popped >= 0);
    }

    /** Steady-state add / publish / kick / reap allocates nothing (benchmarks rely on it). */
    @Test
    void steadyStateAllocatesNothing()
    {
        final GuestMemory memory = GuestMemory.allocate(0x80000);
        final DriverQueue[] queues = {
            new SplitDriverQueue(memory, RingLayout.split(0x1000, 64, 4), true, 0xFFF0),
            new PackedDriverQueue(memory, RingLayout.packed(0x10000, 60, 4), true),
        };
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        for (final DriverQueue queue : queues)
        {
            final TestDevice device = TestDevice.of(queue);
            final Checker checker = new Checker(device, queue.size());
            final BufferChain chain = new BufferChain(4);
            cycle(queue, device, checker, chain, 20_000);
            final long before = threads.getCurrentThreadAllocatedBytes();
            cycle(queue, device, checker, chain, 20_000);
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            // A few bytes of slack for the measurement itself.
            assertTrue(allocated < 1024, queue.getClass().getSimpleName() + " allocated " + allocated + " bytes");
        }
    }

    private static void cycle(
        final DriverQueue queue, final TestDevice device, final Checker checker, final BufferChain chain, final int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            chain.clear().readable(BUFFERS, 16).writable(BUFFERS + 64, 512);
            final int id = queue.addChain(chain, (i & 1) == 0);
            checker.outstanding[id] = true;
            queue.addBuffer(BUFFERS, 16, false);
            queue.publish();
            queue.needsKick();
            device.popAll();
            while (device.poppedCount > 0)
            {
                final int index = device.poppedCount - 1;
                final int popped = device.popped[index];
                checker.outstanding[popped] = true;
                checker.completed[popped] = true;
                checker.expectedLen[popped] = (int)Math.min(device.writable[popped], 100);
                device.complete(index, checker.expectedLen[popped]);
            }
            queue.reap(checker);
            queue.enableInterrupts();
            queue.hasPendingUsed();
        }
        assertEquals(0, queue.inFlight());
    }

    /** Checks each reaped id was completed by the device, once, with the length it wrote. */
    static final class Checker implements UsedConsumer
    {
        final boolean[] outstanding;
        final boolean[] completed;
        final int[] expectedLen;

        Checker(final TestDevice device, final int size)
        {
            outstanding = new boolean[size];
            completed = new boolean[size];
            expectedLen = new int[size];
        }

        public void onUsed(final int id, final int len)
        {
            if (!outstanding[id] || !completed[id])
            {
                throw new AssertionError("reaped id " + id + " that the device did not complete");
            }
            if (len != expectedLen[id])
            {
                throw new AssertionError("id " + id + " len " + len + " expected " + expectedLen[id]);
            }
            outstanding[id] = false;
            completed[id] = false;
        }
    }
}
