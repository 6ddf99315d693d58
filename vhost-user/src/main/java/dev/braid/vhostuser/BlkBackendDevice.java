package dev.braid.vhostuser;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.FrontQueue;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.ha.Aggregation;
import dev.braid.ha.AllDownPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * virtio-blk behind vhost-user: each start builds a {@link VirtioBlkDevice} over the front end's
 * memory and plays the virtio transport for it (status dance, features, queue registers,
 * DRIVER_OK), then moves each split ring to the front end's avail/used indices before the agents
 * run. Active-active queue-affine by default, or the given {@link Aggregation}, over the given cards. Packed rings are not offered (GET_VRING_BASE
 * for them needs wrap counters, not done yet).
 */
public final class BlkBackendDevice implements BackendDevice
{
    private static final long DRAIN_TIMEOUT_NANOS = 5_000_000_000L;
    /** Idle this long with nothing in flight, and the agent thread blocks on the kick fds. */
    static final long IDLE_BEFORE_SLEEP_NANOS = 2_000_000L;
    /** The longest block: the agents' timers (probes, fault schedules) run at least this often. */
    static final int SLEEP_TIMEOUT_MILLIS = 50;

    private final List<BlockCard> cards;
    private final int maxQueues;
    private final int maxQueueSize;
    private final int agentThreads;
    private final Aggregation aggregation;
    private final VirtioBlkDevice configView;
    private final long features;
    private VirtioBlkDevice device;
    /** The aggregated device between DRIVER_OK and stop, for monitors on other threads. */
    private volatile AggregatedDevice<?> live;
    private AgentThreads threads;
    private int[] pendingBases = new int[0];
    private int[] kickFds = new int[0];
    private volatile KickWaiter waiter;
    private volatile int starts;

    /**
     * @param agentThreads threads the device's agents share while it runs.
     */
    public BlkBackendDevice(final List<BlockCard> cards, final int maxQueues, final int maxQueueSize, final int agentThreads)
    {
        this(cards, maxQueues, maxQueueSize, agentThreads, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE));
    }

    /**
     * @param aggregation how the cards share the guest's queues (active-active or active-passive).
     */
    public BlkBackendDevice(final List<BlockCard> cards, final int maxQueues, final int maxQueueSize,
        final int agentThreads, final Aggregation aggregation)
    {
        if (aggregation == null)
        {
            throw new IllegalArgumentException("a blk device needs an aggregation: null");
        }
        if (cards.isEmpty())
        {
            throw new IllegalArgumentException("a blk device needs at least one card");
        }
        if (maxQueues < 1 || maxQueues > 256)
        {
            throw new IllegalArgumentException("queues must be 1..256: " + maxQueues);
        }
        if (maxQueueSize < 1 || maxQueueSize > 32768 || Integer.bitCount(maxQueueSize) != 1)
        {
            throw new IllegalArgumentException("queue size must be a power of two 1..32768: " + maxQueueSize);
        }
        if (agentThreads < 1)
        {
            throw new IllegalArgumentException("agent threads must be >= 1: " + agentThreads);
        }
        this.cards = List.copyOf(cards);
        this.maxQueues = maxQueues;
        this.maxQueueSize = maxQueueSize;
        this.agentThreads = agentThreads;
        this.aggregation = aggregation;
        // Never activated: it only answers config reads and feature offers before memory arrives.
        this.configView = newDevice(GuestMemory.allocate(4096), maxQueues, null);
        this.features = configView.core().features().offered() & ~(1L << VirtioFeatures.RING_PACKED);
    }

    public long features()
    {
        return features;
    }

    public int maxQueues()
    {
        return maxQueues;
    }

    public int maxQueueSize()
    {
        return maxQueueSize;
    }

    public int readConfigByte(final int offset)
    {
        return (int)configView.readConfig(offset, 1) & 0xFF;
    }

    public void kickFds(final int[] kickFds, final int count)
    {
        this.kickFds = java.util.Arrays.copyOf(kickFds, count);
    }

    /** How many times the device started (each vhost start after a reset, reboot or new front end). */
    public int starts()
    {
        return starts;
    }

    /** The running device's idle strategy (null when stopped, or with more than one agent thread). */
    public KickWaiter kickWaiter()
    {
        return waiter;
    }

    public String start(
        final GuestMemory memory, final long features, final int count, final int[] sizes, final long[] desc,
        final long[] avail, final long[] used, final int[] bases, final IntConsumer calls)
    {
        if (device != null)
        {
            return "blk device already running";
        }
        if (count < 1 || count > maxQueues)
        {
            return "blk rings " + count + " outside 1.." + maxQueues;
        }
        final VirtioBlkDevice blk = newDevice(memory, count, calls);
        final VirtioDeviceCore core = blk.core();
        final int driver = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER;
        blk.writeStatus(DeviceStatus.ACKNOWLEDGE);
        blk.writeStatus(driver);
        if (!core.features().ackFeatures(features))
        {
            return "blk device refused features 0x" + Long.toHexString(features);
        }
        blk.writeStatus(driver | DeviceStatus.FEATURES_OK);
        if (!core.status().has(DeviceStatus.FEATURES_OK))
        {
            return "blk device refused FEATURES_OK for 0x" + Long.toHexString(features);
        }
        for (int q = 0; q < count; q++)
        {
            core.queueSelect(q);
            if (!core.queueSize(sizes[q]) || !core.queueDescriptorArea(desc[q]) || !core.queueDriverArea(avail[q]) ||
                !core.queueDeviceArea(used[q]) || !core.queueEnable(1))
            {
                return "blk device refused ring " + q + " (size " + sizes[q] + ")";
            }
        }
        this.device = blk;
        pendingBases = bases;
        blk.writeStatus(driver | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        if (blk.device() == null)
        {
            this.device = null;
            return "blk device refused DRIVER_OK (rings outside memory or too large)";
        }
        // Agents were started inside onActivate, after moving the rings: see newDevice.
        starts = starts + 1;
        return null;
    }

    /**
     * The aggregated device of the current connection while it runs (after DRIVER_OK, before stop
     * or reset), else null. Any thread: for status monitors (counters, health, failover log).
     */
    public AggregatedDevice<?> runningDevice()
    {
        return live;
    }

    public boolean isRunning()
    {
        return device != null;
    }

    public int stop(final int[] bases)
    {
        final VirtioBlkDevice blk = device;
        if (blk == null)
        {
            return 0;
        }
        final int count = blk.core().queueCount();
        final FrontQueue[] queues = new FrontQueue[count];
        for (int q = 0; q < count; q++)
        {
            queues[q] = blk.frontQueue(q);
        }
        final long deadline = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
        int inFlight = inFlight(queues);
        while (inFlight > 0 && System.nanoTime() < deadline)
        {
            Thread.onSpinWait();
            Thread.yield();
            inFlight = inFlight(queues);
        }
        blk.writeStatus(0);
        for (int q = 0; q < count && queues[q] != null; q++)
        {
            final DeviceQueue ring = queues[q].deviceQueue();
            bases[q] = ring instanceof SplitQueue ? ((SplitQueue)ring).lastAvailIndex() : bases[q];
        }
        device = null;
        return inFlight;
    }

    public void close()
    {
        if (device != null)
        {
            stop(new int[maxQueues]);
        }
    }

    private static int inFlight(final FrontQueue[] queues)
    {
        int sum = 0;
        for (final FrontQueue queue : queues)
        {
            sum += queue == null ? 0 : queue.inFlight();
        }
        return sum;
    }

    private VirtioBlkDevice newDevice(final GuestMemory memory, final int count, final IntConsumer calls)
    {
        final VirtioBlkDevice[] self = new VirtioBlkDevice[1];
        self[0] = new VirtioBlkDevice(new VirtioBlkDevice.Context()
            .memory(memory).cards(cards).queueCount(count).queueMaxSize(maxQueueSize)
            .aggregation(aggregation)
            .allDown(AllDownPolicy.queueUntilDeadline(5_000_000_000L))
            .interrupts(q -> calls.accept(q))
            .configInterrupt(() -> { })
            .onActivate(agents ->
            {
                moveRings(self[0], memory);
                threads = AgentThreads.start(agents, agentThreads, idleStrategy(self[0]));
                live = self[0].device();
            })
            .onDeactivate(() ->
            {
                live = null;
                final AgentThreads running = threads;
                final KickWaiter sleeping = waiter;
                threads = null;
                waiter = null;
                if (sleeping != null)
                {
                    sleeping.wake();
                }
                if (running != null)
                {
                    running.close();
                }
                if (sleeping != null)
                {
                    sleeping.close();
                }
            }));
        return self[0];
    }

    /**
     * One agent thread: a {@link KickWaiter} over the rings' kick fds (it reads the front queues'
     * in-flight counts, that thread's own). More threads: plain back-off, the rings are polled.
     */
    private java.util.function.Supplier<org.agrona.concurrent.IdleStrategy> idleStrategy(final VirtioBlkDevice blk)
    {
        final int count = blk.core().queueCount();
        if (agentThreads != 1 || kickFds.length != count)
        {
            return AgentThreads.backoff();
        }
        final DeviceQueue[] rings = new DeviceQueue[count];
        final FrontQueue[] queues = new FrontQueue[count];
        for (int q = 0; q < count; q++)
        {
            queues[q] = blk.frontQueue(q);
            rings[q] = queues[q].deviceQueue();
        }
        final KickWaiter kicks = new KickWaiter(rings, kickFds, () -> inFlight(queues) == 0,
            IDLE_BEFORE_SLEEP_NANOS, SLEEP_TIMEOUT_MILLIS);
        waiter = kicks;
        return () -> kicks;
    }

    /** vhost-user rings resume where the front end says: avail from SET_VRING_BASE, used from guest memory. */
    private void moveRings(final VirtioBlkDevice blk, final GuestMemory memory)
    {
        final VirtioDeviceCore core = blk.core();
        for (int q = 0; q < core.queueCount(); q++)
        {
            final DeviceQueue ring = blk.frontQueue(q).deviceQueue();
            if (ring instanceof SplitQueue)
            {
                final int usedIdx = memory.getShort(core.queue(q).deviceArea() + 2) & 0xFFFF;
                ((SplitQueue)ring).startAt(pendingBases[q], usedIdx);
            }
        }
    }
}
