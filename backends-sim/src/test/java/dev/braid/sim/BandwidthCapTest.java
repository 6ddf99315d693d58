package dev.braid.sim;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BandwidthCapTest
{
    private static final long SECOND = 1_000_000_000L;

    @Test
    void burstThenSustainedRate()
    {
        // 1 MB/s, 8 KiB bucket: two 4 KiB requests start at once, then one every 4096 us.
        final BandwidthCap cap = BandwidthCap.bytesPerSecond(1_000_000, 8192);
        assertEquals(0, cap.reserve(0, 4096));
        assertEquals(0, cap.reserve(0, 4096));
        assertEquals(4_096_000, cap.peek(0, 4096));
        assertEquals(4_096_000, cap.reserve(0, 4096));
        assertEquals(8_192_000, cap.reserve(0, 4096));
        // After an idle spell the bucket is full again.
        assertEquals(100 * SECOND, cap.reserve(100 * SECOND, 4096));
        assertEquals(100 * SECOND, cap.reserve(100 * SECOND, 4096));
        assertEquals(100 * SECOND + 4_096_000, cap.reserve(100 * SECOND, 4096));
    }

    @Test
    void requestLargerThanTheBucketWaitsForAFullBucket()
    {
        final BandwidthCap cap = BandwidthCap.bytesPerSecond(1_000_000, 1000);
        assertEquals(0, cap.reserve(0, 5000));
        assertEquals(5_000_000, cap.reserve(0, 5000));
    }

    @Test
    void iopsCap()
    {
        final BandwidthCap cap = BandwidthCap.iosPerSecond(1000, 1);
        assertEquals(0, cap.reserve(0, 1 << 20));
        assertEquals(1_000_000, cap.reserve(0, 1 << 20));
        assertEquals(2_000_000, cap.reserve(1_500_000, 0));
        cap.reset();
        assertEquals(1_500_000, cap.reserve(1_500_000, 0));
    }

    private static long throughput(final BandwidthCap cap, final int ioBytes, final long[] ios)
    {
        final VirtualClock clock = new VirtualClock();
        final SharedBlockStore store = new SharedBlockStore(1024);
        final SimDisk disk = SimDisk.builder("bw", store).clock(clock).queues(2, 16).bandwidth(cap)
            .latency(LatencyModel.fixed(50_000)).build();
        final GuestMemory memory = GuestMemory.allocate(1 << 20);
        final BlockIo[] slots = new BlockIo[32];
        final boolean[] busy = new boolean[32];
        for (int i = 0; i < slots.length; i++)
        {
            slots[i] = new BlockIo(1);
            slots[i].data().reset(memory);
            slots[i].data().add(i * (long)ioBytes, ioBytes);
            slots[i].set(BlockIo.WRITE, (i * ioBytes / 512) % 1000);
        }
        final DeterministicScheduler scheduler = new DeterministicScheduler(3, clock);
        scheduler.addAgent(new CardPoller(disk));
        scheduler.addAgent(new Agent()
        {
            public int doWork()
            {
                int work = 0;
                for (int i = 0; i < slots.length; i++)
                {
                    final int slot = i;
                    if (!busy[i] && disk.submit(i & 1, slots[i], i, (token, status, length) ->
                    {
                        busy[slot] = false;
                        ios[0]++;
                        return true;
                    }))
                    {
                        busy[i] = true;
                        work++;
                    }
                }
                return work;
            }

            public String roleName()
            {
                return "closed-loop";
            }
        });
        scheduler.runFor(SECOND);
        return disk.bytes();
    }

    @Test
    void diskThroughputFollowsTheByteCapInVirtualTime()
    {
        final long[] ios = new long[1];
        final long bytes = throughput(BandwidthCap.bytesPerSecond(10_000_000, 65536), 4096, ios);
        // 10 MB in one virtual second plus the initial burst, less the requests still in flight.
        assertTrue(bytes >= 10_000_000 - 32 * 4096 && bytes <= 10_000_000 + 65536 + 4096, "bytes=" + bytes);
    }

    @Test
    void diskThroughputFollowsTheIopsCapInVirtualTime()
    {
        final long[] ios = new long[1];
        throughput(BandwidthCap.iosPerSecond(5_000, 8), 512, ios);
        assertTrue(ios[0] >= 5_000 - 32 && ios[0] <= 5_000 + 8 + 1, "ios=" + ios[0]);
    }
}
