package dev.braid.aggregator;

import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The blk invariants with real threads: device agents on two threads, the guest on a third,
 * faults injected at random wall-clock moments. Timing varies run to run; the seed fixes the
 * workload and the fault plan, not the interleaving.
 */
@ExtendWith(SeedExtension.class)
class BlkThreadedTest
{
    @ParameterizedTest
    @ValueSource(ints = { 2, 3, 4 })
    void invariantsHoldUnderWallClockFaults(final int cards, final Seed seeded) throws Exception
    {
        final long seed = seeded.value();
        final SplittableRandom random = new SplittableRandom(seed);
        final boolean activePassive = random.nextBoolean();

        final GuestMemory memory = GuestMemory.allocate(32 << 20);
        final int queues = 2;
        final int queueSize = 128;
        final SharedBlockStore store = new SharedBlockStore(16384);
        final SimDisk[] disks = new SimDisk[cards];
        for (int i = 0; i < cards; i++)
        {
            disks[i] = SimDisk.builder("disk" + i, store).latency(LatencyModel.uniform(5_000, 40_000))
                .queues(2, 32).seed(seed + i).build();
        }
        final DeviceQueue[] deviceQueues = new DeviceQueue[queues];
        final BlkGuestWorkload[] guests = new BlkGuestWorkload[queues];
        long gpa = 0;
        for (int q = 0; q < queues; q++)
        {
            final RingLayout layout = RingLayout.split(gpa, queueSize, 4);
            final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, true);
            deviceQueues[q] = new SplitQueue(memory, queueSize, layout.descGpa(), layout.availGpa(),
                layout.usedGpa(), true, true);
            final long area = RingLayout.alignUp(layout.endGpa(), 64);
            guests[q] = BlkGuestWorkload.builder().queue(q, driver).memory(memory).areaGpa(area).range(q * 8192L, 8192)
                .requests(20_000).maxOutstanding(64).seed(seed + q).build();
            gpa = RingLayout.alignUp(area + (long)queueSize * BlkGuestWorkload.slotBytes(8), 4096);
        }
        final AggregatedDevice device = VirtioBlkDevice.aggregate(new VirtioBlkDevice.Context()
            .memory(memory).cards(List.of(disks)).queueCount(queues).maxSegments(16).seed(seed)
            .aggregation(activePassive ? Aggregation.activePassive(Failback.immediate()) :
                Aggregation.activeActive(SelectorKind.QUEUE_AFFINE))
            .health(new HealthConfig().completionTimeoutNanos(20_000_000).minDownNanos(10_000_000)
                .probeIntervalNanos(5_000_000)), deviceQueues, VirtioBlkDevice.offeredFeatures());

        final AgentThreads threads = AgentThreads.start(device.agents(), 2, AgentThreads.backoff());
        final Agent[] guestAgents = guests;
        final AgentRunner guestRunner = new AgentRunner(new SleepingIdleStrategy(10_000), Throwable::printStackTrace,
            null, new org.agrona.concurrent.CompositeAgent(guestAgents));
        AgentRunner.startOnThread(guestRunner);
        try
        {
            final CardFault[] faults = { CardFault.FAIL_STOP, CardFault.HANG, CardFault.ZOMBIE, CardFault.LINK_DOWN };
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int injected = 0;
            while (!(guests[0].isFinished() && guests[1].isFinished()) && System.nanoTime() < deadline)
            {
                Thread.sleep(5 + random.nextInt(30));
                if (injected < 3)
                {
                    final int card = injected % cards;
                    final CardFault fault = faults[random.nextInt(faults.length)];
                    disks[card].inject(fault, 0);
                    Thread.sleep(20 + random.nextInt(40));
                    disks[card].rejoin();
                    injected++;
                }
            }
            assertNull(threads.failure(), "no agent failed");
            for (final BlkGuestWorkload guest : guests)
            {
                assertTrue(guest.isFinished(), "every request completed (lost: " + guest.outstanding() + ")");
                assertEquals(0, guest.strays(), "duplicate or stray completions");
                assertEquals(0, guest.corrupt(), "reads that did not return the last completed write");
                assertEquals(0, guest.errors(), "guest errors while at least one card was up");
            }
        }
        finally
        {
            guestRunner.close();
            threads.close();
        }
    }
}
