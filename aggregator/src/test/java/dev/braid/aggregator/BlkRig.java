package dev.braid.aggregator;

import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.FaultSchedule;
import dev.braid.sim.FaultScheduleAgent;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.card.BlockCard;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.PackedDriverQueue;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.PackedQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/** A deterministic blk device over simulated disks, with its guests, for tests. */
final class BlkRig
{
    final VirtualClock clock = new VirtualClock();
    final DeterministicScheduler scheduler;
    final SimDisk[] disks;
    final AggregatedDevice<BlockCard> device;
    final BlkGuestWorkload[] guests;
    final FaultSchedule faults = new FaultSchedule();
    final long seed;
    private FaultScheduleAgent faultAgent;

    static final class Options
    {
        int cards = 2;
        int queues = 1;
        int queueSize = 64;
        boolean packed;
        boolean activePassive;
        boolean spray = true;
        long requestsPerQueue = 10_000;
        int sectorsPerQueue = 2048;
        LatencyModel latency = LatencyModel.uniform(10_000, 50_000);
        HealthConfig health = new HealthConfig().completionTimeoutNanos(5_000_000).minDownNanos(2_000_000)
            .probeIntervalNanos(1_000_000);
        Consumer<VirtioBlkDevice.Context> customise = c -> {};
        java.util.function.Function<SimDisk, dev.braid.virtio.card.BlockCard> wrap = d -> d;

        Aggregation aggregation()
        {
            return activePassive ? Aggregation.activePassive(Failback.immediate()) :
                Aggregation.activeActive(spray ? SelectorKind.LEAST_OUTSTANDING : SelectorKind.QUEUE_AFFINE);
        }
    }

    BlkRig(final long seed, final Options options)
    {
        this.seed = seed;
        scheduler = new DeterministicScheduler(seed, clock);
        final int slot = BlkGuestWorkload.slotBytes(8);
        final long perQueue = RingLayout.alignUp(64 * 1024 + (long)options.queueSize * slot, 4096);
        final GuestMemory memory = GuestMemory.allocate(perQueue * options.queues + (1 << 20));
        final SharedBlockStore store = new SharedBlockStore((long)options.sectorsPerQueue * options.queues);
        disks = new SimDisk[options.cards];
        final List<BlockCard> cards = new ArrayList<>();
        for (int i = 0; i < options.cards; i++)
        {
            disks[i] = SimDisk.builder("disk" + i, store).clock(clock).latency(options.latency)
                .queues(2, 32).seed(seed * 31 + i).build();
            cards.add(options.wrap.apply(disks[i]));
            scheduler.addTimerSource(disks[i]);
        }
        final DeviceQueue[] queues = new DeviceQueue[options.queues];
        guests = new BlkGuestWorkload[options.queues];
        for (int q = 0; q < options.queues; q++)
        {
            final long base = perQueue * q;
            final RingLayout layout = options.packed ?
                RingLayout.packed(base, options.queueSize, 4) : RingLayout.split(base, options.queueSize, 4);
            final DriverQueue driver = options.packed ?
                new PackedDriverQueue(memory, layout, true) : new SplitDriverQueue(memory, layout, true);
            queues[q] = options.packed ?
                new PackedQueue(memory, options.queueSize, layout.descGpa(), layout.driverEventGpa(),
                    layout.deviceEventGpa(), true, true) :
                new SplitQueue(memory, options.queueSize, layout.descGpa(), layout.availGpa(),
                    layout.usedGpa(), true, true);
            guests[q] = BlkGuestWorkload.builder().queue(q, driver).memory(memory)
                .areaGpa(RingLayout.alignUp(layout.endGpa(), 64)).range((long)q * options.sectorsPerQueue, options.sectorsPerQueue)
                .requests(options.requestsPerQueue).maxOutstanding(options.queueSize).seed(seed + q).build();
        }
        final VirtioBlkDevice.Context context = new VirtioBlkDevice.Context().memory(memory).cards(cards)
            .queueCount(options.queues).maxSegments(16).aggregation(options.aggregation()).health(options.health)
            .clock(clock).seed(seed).onAgentAdded(scheduler::addAgent);
        options.customise.accept(context);
        device = VirtioBlkDevice.aggregate(context, queues, VirtioBlkDevice.offeredFeatures());
        for (final Agent agent : device.agents())
        {
            scheduler.addAgent(agent);
        }
        for (final BlkGuestWorkload guest : guests)
        {
            scheduler.addAgent(guest);
        }
        // Health and timeouts are clock-driven: keep virtual time moving while work is owed.
        final TimerSource heartbeat = () -> clock.nanoTime() + 100_000;
        scheduler.addTimerSource(heartbeat);
    }

    /** Runs until every guest finished, or the virtual deadline passes; returns whether all finished. */
    boolean run(final long maxVirtualNanos)
    {
        if (faultAgent == null && faults.size() > 0)
        {
            faultAgent = new FaultScheduleAgent(faults, clock);
            scheduler.addAgent(faultAgent);
        }
        return scheduler.runUntil(this::finished, maxVirtualNanos, 50_000_000L);
    }

    boolean finished()
    {
        for (final BlkGuestWorkload guest : guests)
        {
            if (!guest.isFinished())
            {
                return false;
            }
        }
        return true;
    }

    /** The invariants that must hold whenever at least one card stayed up. */
    void assertInvariants()
    {
        final String where = " (seed=" + seed + ")";
        for (final BlkGuestWorkload guest : guests)
        {
            assertEquals(0, guest.outstanding(), "lost requests" + where);
            assertEquals(0, guest.strays(), "duplicate or stray completions" + where);
            assertEquals(0, guest.corrupt(), "reads that did not return the last completed write" + where);
            assertEquals(0, guest.errors(), "errors seen by the guest while a card was up" + where);
        }
        for (int q = 0; q < device.guestQueueCount(); q++)
        {
            assertEquals(0, device.frontQueue(q).inFlight(), "leaked in-flight entries" + where);
            assertFalse(device.frontQueue(q).isBroken(), "queue broken" + where);
        }
    }
}
