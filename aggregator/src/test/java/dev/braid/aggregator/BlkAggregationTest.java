package dev.braid.aggregator;

import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.aggregator.guest.BlkGuestWorkload;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.ha.DispatchShape;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.driver.RingLayout;
import dev.braid.virtio.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class BlkAggregationTest
{
    @Test
    void twoCardsServeOneQueueWithoutFaults()
    {
        final Rig rig = new Rig(42, 2, null);
        assertTrue(rig.run(5_000), "workload finished");
        rig.assertInvariants();
        assertTrue(rig.disks[0].completed() > 0 && rig.disks[1].completed() > 0, "both cards served");
    }

    @Test
    void failStopIsInvisibleToTheGuest()
    {
        final Rig rig = new Rig(7, 3, CardFault.FAIL_STOP);
        assertTrue(rig.run(20_000), "workload finished");
        rig.assertInvariants();
        assertTrue(rig.device.frontQueue(0).stats().get(QueueStats.REPLAYED) > 0, "requests were replayed");
    }

    @Test
    void hangIsDetectedByTimeoutAndInvisible()
    {
        final Rig rig = new Rig(9, 2, CardFault.HANG);
        assertTrue(rig.run(20_000), "workload finished");
        rig.assertInvariants();
    }

    static final class Rig
    {
        final VirtualClock clock = new VirtualClock();
        final DeterministicScheduler scheduler;
        final SimDisk[] disks;
        final AggregatedDevice device;
        final BlkGuestWorkload guest;
        final CardFault fault;
        final long seed;

        Rig(final long seed, final int cards, final CardFault fault)
        {
            this.seed = seed;
            this.fault = fault;
            System.out.println("seed=" + seed + " cards=" + cards + " fault=" + fault);
            scheduler = new DeterministicScheduler(seed, clock);
            final GuestMemory memory = GuestMemory.allocate(16 << 20);
            final int queueSize = 128;
            final RingLayout layout = RingLayout.split(0, queueSize, 4);
            final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, true);
            final DeviceQueue queue = new SplitQueue(memory, queueSize, layout.descGpa(), layout.availGpa(),
                layout.usedGpa(), true, true);

            final SharedBlockStore store = new SharedBlockStore(8192);
            disks = new SimDisk[cards];
            final AggregatedDevice.Builder builder = AggregatedDevice.builder().clock(clock).seed(seed);
            for (int i = 0; i < cards; i++)
            {
                disks[i] = SimDisk.builder("disk" + i, store).clock(clock)
                    .latency(LatencyModel.uniform(10_000, 50_000)).queues(2, 32).seed(seed + i).build();
                builder.card(disks[i]);
                scheduler.addTimerSource(disks[i]);
            }
            final BlkRequestParser parser = new BlkRequestParser().capacity(store.sectors());
            final BlkRequestHandler handler = new BlkRequestHandler(memory, parser, queueSize, 16,
                "braid-test".getBytes(StandardCharsets.US_ASCII));
            device = builder
                .queues(new DeviceQueue[]{ queue }, new RequestHandler[]{ handler })
                .probeHandler(new BlkProbeHandler(8))
                .mapPolicy(new ActiveActivePolicy(1, DispatchShape.REQUEST_SPRAY))
                .dispatchPolicy(DispatchPolicy.requestSpray(SelectorKind.LEAST_OUTSTANDING))
                .healthConfig(new HealthConfig().completionTimeoutNanos(5_000_000).minDownNanos(2_000_000)
                    .probeIntervalNanos(1_000_000))
                .build();
            for (final Agent agent : device.agents())
            {
                scheduler.addAgent(agent);
            }
            guest = new BlkGuestWorkload(0, driver, memory, RingLayout.alignUp(layout.endGpa(), 64),
                0, 4096, 8, 50, true, 0, 64, seed, q -> {});
            scheduler.addAgent(guest);
            // Health and timeouts are clock-driven: keep virtual time moving while work is owed.
            final TimerSource heartbeat = () -> clock.nanoTime() + 100_000;
            scheduler.addTimerSource(heartbeat);
        }

        boolean run(final long requests)
        {
            final long faultAt = 2_000_000;
            boolean injected = fault == null;
            final long deadline = 60_000_000_000L;
            while (guest.completed() < requests)
            {
                if (!injected && clock.nanoTime() >= faultAt)
                {
                    disks[0].inject(fault, 0);
                    injected = true;
                }
                if (clock.nanoTime() > deadline)
                {
                    return false;
                }
                scheduler.runRound();
                if (scheduler.rounds() % 64 == 0 && scheduler.nextDeadline() == Long.MAX_VALUE)
                {
                    clock.advanceBy(1_000);
                }
            }
            return true;
        }

        void assertInvariants()
        {
            assertEquals(0, guest.strays(), "duplicate or stray completions");
            assertEquals(0, guest.corrupt(), "reads that did not return the last completed write");
            assertEquals(0, guest.errors(), "errors seen by the guest while a card was up");
            assertTrue(guest.reads() > 0 && guest.writes() > 0);
        }
    }
}
