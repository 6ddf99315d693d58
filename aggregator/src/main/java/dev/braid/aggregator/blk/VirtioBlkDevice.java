package dev.braid.aggregator.blk;

import dev.braid.aggregator.AbstractVirtioDevice;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.AggregatorContext;
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
import dev.braid.virtio.device.FeatureNegotiation;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import org.agrona.concurrent.Agent;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What a VMM attaches to its virtio-pci or virtio-mmio transport: one virtio-blk device served by
 * several block cards. The transport forwards feature and status registers, queue setup, config
 * reads and kicks through {@link #core()} and the methods of {@link AbstractVirtioDevice}; when the
 * driver sets DRIVER_OK the device builds its queues from the programmed addresses and its
 * {@link AggregatedDevice}, whose agents the VMM runs (or hands to {@link dev.braid.aggregator.AgentThreads}).
 */
public final class VirtioBlkDevice extends AbstractVirtioDevice
{
    private static final int SEG_MAX = 128;
    /** num_queues is a 16-bit config field. */
    public static final int MAX_QUEUES = 0xFFFF;

    private final List<BlockCard> cards;
    private final BlkConfig config = new BlkConfig();
    private final InterruptSink interrupts;
    private final Function<Integer, MapPolicy> policy;
    private final DispatchPolicy dispatch;
    private final HealthConfig health;
    private final AllDownPolicy allDown;
    private final AggregatorContext context = new AggregatorContext().maxSegments(SEG_MAX);

    /**
     * @param policy       makes the map policy for a given number of guest queues.
     * @param onActivate   receives the agents to run when the driver sets DRIVER_OK.
     * @param onDeactivate stops them again (device reset).
     */
    public VirtioBlkDevice(
        final GuestMemory memory, final List<BlockCard> cards, final int queueCount, final int queueMaxSize,
        final Function<Integer, MapPolicy> policy, final DispatchPolicy dispatch, final HealthConfig health,
        final AllDownPolicy allDown, final InterruptSink interrupts, final Runnable configInterrupt,
        final Consumer<List<Agent>> onActivate, final Runnable onDeactivate)
    {
        super(memory, newCore(queueCount, queueMaxSize), cards, configInterrupt, onActivate, onDeactivate);
        long capacity = Long.MAX_VALUE;
        for (final BlockCard card : cards)
        {
            capacity = Math.min(capacity, card.capacitySectors());
        }
        this.cards = List.copyOf(cards);
        this.policy = policy;
        this.dispatch = dispatch;
        this.health = health;
        this.allDown = allDown;
        this.interrupts = interrupts;

        config.capacity(capacity).segMax(SEG_MAX).blkSize(512).numQueues(queueCount)
            .maxDiscardSectors(capacity).maxDiscardSeg(1).discardSectorAlignment(1)
            .maxWriteZeroesSectors(capacity).maxWriteZeroesSeg(1).writeZeroesMayUnmap(1);
    }

    private static VirtioDeviceCore newCore(final int queueCount, final int queueMaxSize)
    {
        if (queueCount < 1 || queueCount > MAX_QUEUES)
        {
            throw new IllegalArgumentException("a blk device needs 1.." + MAX_QUEUES + " queues: " + queueCount);
        }
        final long deviceFeatures = bit(VirtioBlk.VIRTIO_BLK_F_SEG_MAX) | bit(VirtioBlk.VIRTIO_BLK_F_BLK_SIZE) |
            bit(VirtioBlk.VIRTIO_BLK_F_FLUSH) | bit(VirtioBlk.VIRTIO_BLK_F_MQ) |
            bit(VirtioBlk.VIRTIO_BLK_F_DISCARD) | bit(VirtioBlk.VIRTIO_BLK_F_WRITE_ZEROES);
        final int[] sizes = new int[queueCount];
        Arrays.fill(sizes, queueMaxSize);
        return new VirtioDeviceCore(VirtioBlk.VIRTIO_ID_BLOCK, FeatureNegotiation.offer(deviceFeatures, false, false), sizes);
    }

    private static long bit(final int feature)
    {
        return 1L << feature;
    }

    public long readConfig(final int offset, final int width)
    {
        return config.read(offset, width);
    }

    protected AggregatedDevice build(final long features)
    {
        final int queueCount = core().queueCount();
        final DeviceQueue[] queues = new DeviceQueue[queueCount];
        final RequestHandler[] handlers = new RequestHandler[queueCount];
        final byte[] id = "braid-blk".getBytes(StandardCharsets.US_ASCII);
        for (int q = 0; q < queueCount; q++)
        {
            queues[q] = queue(q, features);
            if (queues[q] == null)
            {
                return null;
            }
            handlers[q] = new BlkRequestHandler(memory, new BlkRequestParser().configure(config, features),
                queues[q].size(), SEG_MAX, id);
        }
        final int maxCards = Math.max(8, cards.size());
        final AggregatedDevice.Builder builder = AggregatedDevice.builder()
            .clock(clock()).context(context).maxCards(maxCards)
            .queues(queues, handlers).probeHandler(new BlkProbeHandler(maxCards))
            .mapPolicy(policy.apply(queueCount)).dispatchPolicy(dispatch).healthConfig(health)
            .allDownPolicy(allDown).interrupts(interrupts);
        for (final BlockCard card : cards)
        {
            builder.card(card);
        }
        return builder.build();
    }
}
