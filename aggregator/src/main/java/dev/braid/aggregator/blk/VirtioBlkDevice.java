package dev.braid.aggregator.blk;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.AggregatorContext;
import dev.braid.aggregator.FrontQueue;
import dev.braid.aggregator.InterruptSink;
import dev.braid.aggregator.RequestHandler;
import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.HealthConfig;
import dev.braid.ha.MapPolicy;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.virtio.blk.BlkConfig;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.blk.VirtioBlk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.device.DeviceResetListener;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.FeatureNegotiation;
import dev.braid.virtio.device.QueueConfig;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.PackedQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

/**
 * What a VMM attaches to its virtio-pci or virtio-mmio transport: one virtio-blk device served by
 * several block cards. The transport forwards feature and status registers, queue setup, config
 * reads and kicks through {@link #core()} and the methods here; when the driver sets DRIVER_OK the
 * device builds its queues from the programmed addresses and its {@link AggregatedDevice}, whose
 * agents the VMM runs (or hands to {@link dev.braid.aggregator.AgentThreads}).
 *
 * <p>Guest-programmed ring addresses are checked before use: a bad layout sets DEVICE_NEEDS_RESET
 * instead of throwing into the VMM.
 */
public final class VirtioBlkDevice implements DeviceResetListener
{
    private static final int SEG_MAX = 128;

    private final GuestMemory memory;
    private final List<BlockCard> cards;
    private final VirtioDeviceCore core;
    private final BlkConfig config = new BlkConfig();
    private final InterruptSink interrupts;
    private final Runnable configInterrupt;
    private final Function<Integer, MapPolicy> policy;
    private final DispatchPolicy dispatch;
    private final HealthConfig health;
    private final AllDownPolicy allDown;
    private final NanoClock clock;
    private final AggregatorContext context;
    private final List<Agent> runningAgents = new java.util.ArrayList<>();
    private final java.util.function.Consumer<List<Agent>> onActivate;
    private final Runnable onDeactivate;
    private AggregatedDevice device;

    /**
     * @param policy     makes the map policy for a given number of guest queues.
     * @param onActivate receives the agents to run when the driver sets DRIVER_OK.
     * @param onDeactivate stops them again (device reset).
     */
    public VirtioBlkDevice(
        final GuestMemory memory, final List<BlockCard> cards, final int queueCount, final int queueMaxSize,
        final Function<Integer, MapPolicy> policy, final DispatchPolicy dispatch, final HealthConfig health,
        final AllDownPolicy allDown, final InterruptSink interrupts, final Runnable configInterrupt,
        final java.util.function.Consumer<List<Agent>> onActivate, final Runnable onDeactivate)
    {
        if (cards.isEmpty())
        {
            throw new IllegalArgumentException("a blk device needs at least one card");
        }
        long capacity = Long.MAX_VALUE;
        for (final BlockCard card : cards)
        {
            capacity = Math.min(capacity, card.capacitySectors());
        }
        this.memory = memory;
        this.cards = List.copyOf(cards);
        this.policy = policy;
        this.dispatch = dispatch;
        this.health = health;
        this.allDown = allDown;
        this.interrupts = interrupts;
        this.configInterrupt = configInterrupt;
        this.onActivate = onActivate;
        this.onDeactivate = onDeactivate;
        this.clock = SystemNanoClock.INSTANCE;
        this.context = new AggregatorContext().maxSegments(SEG_MAX);

        config.capacity(capacity).segMax(SEG_MAX).blkSize(512).numQueues(queueCount)
            .maxDiscardSectors(capacity).maxDiscardSeg(1).discardSectorAlignment(1)
            .maxWriteZeroesSectors(capacity).maxWriteZeroesSeg(1).writeZeroesMayUnmap(1);
        final long deviceFeatures = bit(VirtioBlk.VIRTIO_BLK_F_SEG_MAX) | bit(VirtioBlk.VIRTIO_BLK_F_BLK_SIZE) |
            bit(VirtioBlk.VIRTIO_BLK_F_FLUSH) | bit(VirtioBlk.VIRTIO_BLK_F_MQ) |
            bit(VirtioBlk.VIRTIO_BLK_F_DISCARD) | bit(VirtioBlk.VIRTIO_BLK_F_WRITE_ZEROES);
        final int[] sizes = new int[queueCount];
        java.util.Arrays.fill(sizes, queueMaxSize);
        core = new VirtioDeviceCore(VirtioBlk.VIRTIO_ID_BLOCK, FeatureNegotiation.offer(deviceFeatures, false, false), sizes);
        core.addResetListener(this);
    }

    private static long bit(final int feature)
    {
        return 1L << feature;
    }

    /** Feature, status and queue registers, as the transport sees them. */
    public VirtioDeviceCore core()
    {
        return core;
    }

    /** A config space read of {@code width} bytes at {@code offset}. */
    public long readConfig(final int offset, final int width)
    {
        return config.read(offset, width);
    }

    /** The driver writes the status register; DRIVER_OK activates the queues. Returns the outcome. */
    public int writeStatus(final int value)
    {
        final boolean wasLive = core.status().has(DeviceStatus.DRIVER_OK);
        final int outcome = core.writeStatus(value);
        if (!wasLive && core.status().has(DeviceStatus.DRIVER_OK) && device == null)
        {
            activate();
        }
        return outcome;
    }

    /** A queue notification. Front queues poll, so a kick is only a hint; it never blocks. */
    public void kick(final int queue)
    {
    }

    /** Checks the queues for ring errors; sets NEEDS_RESET and raises a config interrupt if one broke. */
    public boolean checkHealth()
    {
        if (device == null)
        {
            return true;
        }
        for (int q = 0; q < device.guestQueueCount(); q++)
        {
            if (device.frontQueue(q).isBroken())
            {
                if (core.needsReset())
                {
                    configInterrupt.run();
                }
                return false;
            }
        }
        return true;
    }

    public AggregatedDevice device()
    {
        return device;
    }

    private void activate()
    {
        final long features = core.features().acked();
        final boolean packed = VirtioFeatures.has(features, VirtioFeatures.RING_PACKED);
        final boolean eventIdx = VirtioFeatures.has(features, VirtioFeatures.EVENT_IDX);
        final boolean indirect = VirtioFeatures.has(features, VirtioFeatures.INDIRECT_DESC);
        final int queueCount = core.queueCount();
        final DeviceQueue[] queues = new DeviceQueue[queueCount];
        final RequestHandler[] handlers = new RequestHandler[queueCount];
        final byte[] id = "braid-blk".getBytes(StandardCharsets.US_ASCII);
        for (int q = 0; q < queueCount; q++)
        {
            final QueueConfig qc = core.queue(q);
            final String problem = packed ?
                PackedQueue.checkLayout(memory, qc.size(), qc.descriptorArea(), qc.driverArea(), qc.deviceArea()) :
                SplitQueue.checkLayout(memory, qc.size(), qc.descriptorArea(), qc.driverArea(), qc.deviceArea());
            if (!qc.isEnabled() || problem != null)
            {
                if (core.needsReset())
                {
                    configInterrupt.run();
                }
                return;
            }
            queues[q] = packed ?
                new PackedQueue(memory, qc.size(), qc.descriptorArea(), qc.driverArea(), qc.deviceArea(), eventIdx, indirect) :
                new SplitQueue(memory, qc.size(), qc.descriptorArea(), qc.driverArea(), qc.deviceArea(), eventIdx, indirect);
            handlers[q] = new BlkRequestHandler(memory, new BlkRequestParser().configure(config, features),
                qc.size(), SEG_MAX, id);
        }
        final AggregatedDevice.Builder builder = AggregatedDevice.builder()
            .clock(clock).context(context).maxCards(Math.max(8, cards.size()))
            .queues(queues, handlers).probeHandler(new BlkProbeHandler(Math.max(8, cards.size())))
            .mapPolicy(policy.apply(queueCount)).dispatchPolicy(dispatch).healthConfig(health)
            .allDownPolicy(allDown).interrupts(interrupts);
        for (final BlockCard card : cards)
        {
            builder.card(card);
        }
        device = builder.build();
        runningAgents.clear();
        runningAgents.addAll(device.agents());
        onActivate.accept(List.copyOf(runningAgents));
    }

    /**
     * Device reset: the agents stop, every card is fenced so that no request of the old
     * generation can touch guest memory, then unfenced for the next activation.
     */
    public void onDeviceReset()
    {
        if (device == null)
        {
            return;
        }
        onDeactivate.run();
        for (int c = 0; c < cards.size(); c++)
        {
            cards.get(c).fence();
            cards.get(c).unfence();
        }
        device = null;
    }

    /** Front queue {@code q} of the active device, or null before DRIVER_OK. */
    public FrontQueue frontQueue(final int q)
    {
        return device == null ? null : device.frontQueue(q);
    }
}
