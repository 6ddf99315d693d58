package dev.braid.vhostuser;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.FrontQueue;
import dev.braid.aggregator.scsi.ScsiControlQueue;
import dev.braid.aggregator.scsi.ScsiDevice;
import dev.braid.aggregator.scsi.VirtioScsiDevice;
import dev.braid.ha.Aggregation;
import dev.braid.ha.AllDownPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import dev.braid.virtio.scsi.VirtioScsi;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * virtio-scsi behind vhost-user ({@code -device vhost-user-scsi-pci,num_queues=N}): QEMU hands over
 * every virtqueue, control (0), event (1) and request queues 2..N+1. Each start builds a
 * {@link VirtioScsiDevice} over the front end's memory and plays its transport, as
 * {@link BlkBackendDevice} does for blk; the rings resume at the front end's indices.
 *
 * <p>Features: the ring features of {@link VirtioScsiDevice}, and VIRTIO_SCSI_F_CHANGE. QEMU 7.2's
 * vhost-user-scsi masks HOTPLUG (and the ring bits) by what the back end offers, but not CHANGE:
 * its {@code param_change} property is on by default and the guest acks it, so a back end that did
 * not offer it would refuse the guest's features. CHANGE promises only that a change of LUN
 * parameters is reported by an event; a Braid LUN's parameters never change while it is served,
 * so there is never one to send, and the bit is taken off before the device sees the features.
 * No HOTPLUG, INOUT or T10_PI. GET_CONFIG, when a front end asks, serves the device's
 * virtio_scsi_config (QEMU 7.2 does not: it builds its own from its properties, and warns that the
 * back end offers the CONFIG protocol feature).
 *
 * <p>At stop the event ring reports as next avail index the first buffer the device holds unused,
 * so a restarted device pops the guest's event buffers again instead of losing them.
 */
public final class ScsiBackendDevice implements BackendDevice
{
    private static final long DRAIN_TIMEOUT_NANOS = 5_000_000_000L;
    private static final int FIXED_QUEUES = ScsiDevice.FIRST_REQUEST_QUEUE;
    private static final long CHANGE = 1L << VirtioScsi.VIRTIO_SCSI_F_CHANGE;

    private final List<ScsiCard> cards;
    private final int maxRequestQueues;
    private final int maxQueueSize;
    private final int agentThreads;
    private final Aggregation aggregation;
    private final VirtioScsiDevice configView;
    private final long features;
    private VirtioScsiDevice device;
    private AgentThreads threads;
    private int[] pendingBases = new int[0];

    /**
     * @param maxRequestQueues request queues offered (num_queues); the front end may use fewer.
     * @param agentThreads     threads the device's agents share while it runs.
     */
    public ScsiBackendDevice(final List<ScsiCard> cards, final int maxRequestQueues, final int maxQueueSize,
        final int agentThreads)
    {
        this(cards, maxRequestQueues, maxQueueSize, agentThreads, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE));
    }

    public ScsiBackendDevice(final List<ScsiCard> cards, final int maxRequestQueues, final int maxQueueSize,
        final int agentThreads, final Aggregation aggregation)
    {
        if (aggregation == null)
        {
            throw new IllegalArgumentException("a scsi device needs an aggregation: null");
        }
        if (cards.isEmpty())
        {
            throw new IllegalArgumentException("a scsi device needs at least one card");
        }
        if (maxRequestQueues < 1 || maxRequestQueues > 254)
        {
            throw new IllegalArgumentException("scsi request queues must be 1..254: " + maxRequestQueues);
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
        this.maxRequestQueues = maxRequestQueues;
        this.maxQueueSize = maxQueueSize;
        this.agentThreads = agentThreads;
        this.aggregation = aggregation;
        // Never activated: it only answers config reads and feature offers before memory arrives.
        this.configView = newDevice(GuestMemory.allocate(4096), maxRequestQueues, null);
        this.features = configView.core().features().offered() & ~(1L << VirtioFeatures.RING_PACKED) | CHANGE;
    }

    public long features()
    {
        return features;
    }

    public int maxQueues()
    {
        return FIXED_QUEUES + maxRequestQueues;
    }

    public int minRings()
    {
        return FIXED_QUEUES + 1;
    }

    public int maxQueueSize()
    {
        return maxQueueSize;
    }

    public int readConfigByte(final int offset)
    {
        return (int)configView.readConfig(offset, 1) & 0xFF;
    }

    public String start(
        final GuestMemory memory, final long features, final int count, final int[] sizes, final long[] desc,
        final long[] avail, final long[] used, final int[] bases, final IntConsumer calls)
    {
        if (device != null)
        {
            return "scsi device already running";
        }
        if (count <= FIXED_QUEUES || count > maxQueues())
        {
            // Control, event and at least one request queue, or nothing to serve.
            return "scsi rings " + count + " outside " + (FIXED_QUEUES + 1) + ".." + maxQueues();
        }
        final VirtioScsiDevice scsi = newDevice(memory, count - FIXED_QUEUES, calls);
        final VirtioDeviceCore core = scsi.core();
        final int driver = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER;
        scsi.writeStatus(DeviceStatus.ACKNOWLEDGE);
        scsi.writeStatus(driver);
        if (!core.features().ackFeatures(features & ~CHANGE))
        {
            return "scsi device refused features 0x" + Long.toHexString(features);
        }
        scsi.writeStatus(driver | DeviceStatus.FEATURES_OK);
        if (!core.status().has(DeviceStatus.FEATURES_OK))
        {
            return "scsi device refused FEATURES_OK for 0x" + Long.toHexString(features);
        }
        for (int q = 0; q < count; q++)
        {
            core.queueSelect(q);
            if (!core.queueSize(sizes[q]) || !core.queueDescriptorArea(desc[q]) || !core.queueDriverArea(avail[q]) ||
                !core.queueDeviceArea(used[q]) || !core.queueEnable(1))
            {
                return "scsi device refused ring " + q + " (size " + sizes[q] + ")";
            }
        }
        this.device = scsi;
        pendingBases = bases;
        scsi.writeStatus(driver | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        if (scsi.device() == null)
        {
            this.device = null;
            return "scsi device refused DRIVER_OK (rings outside memory or too large)";
        }
        return null;
    }

    public boolean isRunning()
    {
        return device != null;
    }

    public int stop(final int[] bases)
    {
        final VirtioScsiDevice scsi = device;
        if (scsi == null)
        {
            return 0;
        }
        final int requestQueues = scsi.core().queueCount() - FIXED_QUEUES;
        final FrontQueue[] queues = new FrontQueue[requestQueues];
        for (int q = 0; q < requestQueues; q++)
        {
            queues[q] = scsi.frontQueue(q);
        }
        final ScsiControlQueue control = scsi.controlQueue();
        final long deadline = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
        int inFlight = inFlight(queues, control);
        while (inFlight > 0 && System.nanoTime() < deadline)
        {
            Thread.onSpinWait();
            Thread.yield();
            inFlight = inFlight(queues, control);
        }
        scsi.writeStatus(0);
        if (control != null)
        {
            bases[0] = baseOf(control.controlRing(), bases[0], 0);
            bases[1] = baseOf(control.eventRing(), bases[1], control.heldEvents());
        }
        for (int q = 0; q < requestQueues && queues[q] != null; q++)
        {
            bases[FIXED_QUEUES + q] = baseOf(queues[q].deviceQueue(), bases[FIXED_QUEUES + q], 0);
        }
        device = null;
        return inFlight;
    }

    public void close()
    {
        if (device != null)
        {
            stop(new int[maxQueues()]);
        }
    }

    private static int baseOf(final DeviceQueue ring, final int otherwise, final int held)
    {
        return ring instanceof SplitQueue ? (((SplitQueue)ring).lastAvailIndex() - held) & 0xFFFF : otherwise;
    }

    private static int inFlight(final FrontQueue[] queues, final ScsiControlQueue control)
    {
        int sum = control == null ? 0 : control.tmfsInProgress();
        for (final FrontQueue queue : queues)
        {
            sum += queue == null ? 0 : queue.inFlight();
        }
        return sum;
    }

    private VirtioScsiDevice newDevice(final GuestMemory memory, final int requestQueues, final IntConsumer calls)
    {
        final VirtioScsiDevice[] self = new VirtioScsiDevice[1];
        self[0] = new VirtioScsiDevice(new VirtioScsiDevice.Context()
            .memory(memory).cards(cards).requestQueues(requestQueues).queueMaxSize(maxQueueSize)
            .aggregation(aggregation)
            .allDown(AllDownPolicy.queueUntilDeadline(5_000_000_000L))
            .interrupts(q -> calls.accept(q))
            .configInterrupt(() -> { })
            .onActivate(agents ->
            {
                moveRings(self[0], memory);
                threads = AgentThreads.start(agents, agentThreads, AgentThreads.backoff());
            })
            .onDeactivate(() ->
            {
                final AgentThreads running = threads;
                threads = null;
                if (running != null)
                {
                    running.close();
                }
            }));
        return self[0];
    }

    /** vhost-user rings resume where the front end says: avail from SET_VRING_BASE, used from guest memory. */
    private void moveRings(final VirtioScsiDevice scsi, final GuestMemory memory)
    {
        final VirtioDeviceCore core = scsi.core();
        final ScsiControlQueue control = scsi.controlQueue();
        startAt(control.controlRing(), core, memory, 0);
        startAt(control.eventRing(), core, memory, 1);
        for (int q = FIXED_QUEUES; q < core.queueCount(); q++)
        {
            startAt(scsi.frontQueue(q - FIXED_QUEUES).deviceQueue(), core, memory, q);
        }
    }

    private void startAt(final DeviceQueue ring, final VirtioDeviceCore core, final GuestMemory memory, final int q)
    {
        if (ring instanceof SplitQueue)
        {
            final int usedIdx = memory.getShort(core.queue(q).deviceArea() + 2) & 0xFFFF;
            ((SplitQueue)ring).startAt(pendingBases[q], usedIdx);
        }
    }
}
