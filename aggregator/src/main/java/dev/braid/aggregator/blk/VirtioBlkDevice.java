package dev.braid.aggregator.blk;

import dev.braid.aggregator.AbstractVirtioDevice;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.DeviceContext;
import dev.braid.aggregator.RequestHandler;
import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.virtio.blk.BlkConfig;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.blk.VirtioBlk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.device.FeatureNegotiation;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.queue.DeviceQueue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * What a VMM attaches to its virtio-pci or virtio-mmio transport: one virtio-blk device served by
 * several block cards, built from one {@link Context}. The transport forwards feature and status
 * registers, queue setup, config reads and kicks through {@link #core()} and the methods of
 * {@link AbstractVirtioDevice}; when the driver sets DRIVER_OK the device builds its queues from the
 * programmed addresses and its {@link AggregatedDevice} ({@link #aggregate}), whose agents the VMM
 * runs (or hands to {@link dev.braid.aggregator.AgentThreads}).
 *
 * <pre>
 * VirtioBlkDevice blk = new VirtioBlkDevice(new VirtioBlkDevice.Context()
 *     .memory(memory).cards(List.of(diskA, diskB)).queueCount(4)
 *     .aggregation(Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING))
 *     .interrupts(vmm::injectQueueInterrupt).onActivate(vmm::runAgents));
 * </pre>
 */
public final class VirtioBlkDevice extends AbstractVirtioDevice
{
    /** seg_max offered by default. */
    public static final int SEG_MAX = 128;
    private static final long PAGE = 4096;
    /** num_queues is a 16-bit config field. */
    public static final int MAX_QUEUES = 0xFFFF;

    private final Context context;
    private final BlkConfig config;

    public VirtioBlkDevice(final Context context)
    {
        super(context.conclude(), newCore(context));
        this.context = context;
        this.config = context.newConfig();
    }

    /** The device-type features offered (the ring features are added by the core). */
    public static long offeredFeatures()
    {
        return bit(VirtioBlk.VIRTIO_BLK_F_SIZE_MAX) | bit(VirtioBlk.VIRTIO_BLK_F_SEG_MAX) | bit(VirtioBlk.VIRTIO_BLK_F_BLK_SIZE) |
            bit(VirtioBlk.VIRTIO_BLK_F_FLUSH) | bit(VirtioBlk.VIRTIO_BLK_F_MQ) |
            bit(VirtioBlk.VIRTIO_BLK_F_DISCARD) | bit(VirtioBlk.VIRTIO_BLK_F_WRITE_ZEROES);
    }

    private static VirtioDeviceCore newCore(final Context context)
    {
        final int[] sizes = new int[context.queueCount()];
        Arrays.fill(sizes, context.queueMaxSize());
        return new VirtioDeviceCore(VirtioBlk.VIRTIO_ID_BLOCK, FeatureNegotiation.offer(offeredFeatures(), false, false), sizes);
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
        final int enabled = leadingEnabledQueues(0);
        if (enabled < 1)
        {
            return null;
        }
        final DeviceQueue[] queues = new DeviceQueue[enabled];
        for (int q = 0; q < queues.length; q++)
        {
            queues[q] = queue(q, features);
            if (queues[q] == null)
            {
                return null;
            }
        }
        return aggregate(context, queues, features);
    }

    /**
     * The aggregated device over device-side rings that are already set up: what DRIVER_OK builds,
     * and what a rig without a transport (tests, soak, benchmarks) builds over its driver model's
     * rings. Guest queue {@code q} is virtio queue {@code q}; its agents are not started. Fewer rings
     * than the context's queue count serve the leading queues (a driver that enabled only those).
     *
     * @param features the negotiated features (the request parser honours DISCARD and WRITE_ZEROES by them).
     */
    public static AggregatedDevice aggregate(final Context context, final DeviceQueue[] queues, final long features)
    {
        context.conclude();
        if (queues.length < 1 || queues.length > context.queueCount())
        {
            throw new IllegalArgumentException("the context says 1.." + context.queueCount() + " queues: " +
                queues.length + " rings given");
        }
        final BlkConfig config = context.newConfig();
        final RequestHandler[] handlers = new RequestHandler[queues.length];
        final byte[] id = context.serial();
        for (int q = 0; q < queues.length; q++)
        {
            handlers[q] = new BlkRequestHandler(context.memory(), new BlkRequestParser().configure(config, features),
                queues[q].size(), context.maxSegments(), id);
        }
        return context.deviceBuilder(queues.length)
            .queues(queues, handlers)
            .probeHandler(new BlkProbeHandler(context.maxCards()))
            .interrupts(context.interrupts())
            .build();
    }

    /**
     * Everything a virtio-blk device is made of: the {@link DeviceContext} settings plus the queue
     * count, seg_max and the serial GET_ID answers. Defaults: 1 queue, seg_max 128, active-active
     * queue-affine.
     */
    public static final class Context extends DeviceContext<Context, BlockCard>
    {
        private int queueCount = 1;
        private String serial = "braid-blk";
        private long capacity;
        private long sizeMax;
        private int segMax;

        public Context()
        {
            super(SEG_MAX, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE));
        }

        /** num_queues (1..65535). */
        public Context queueCount(final int queueCount)
        {
            set().queueCount = queueCount;
            return this;
        }

        public int queueCount()
        {
            return queueCount;
        }

        /** What GET_ID answers (at most 20 ASCII bytes). */
        public Context serial(final String serial)
        {
            set().serial = serial;
            return this;
        }

        byte[] serial()
        {
            return serial.getBytes(StandardCharsets.US_ASCII);
        }

        /** The capacity offered: the smallest card's, in 512-byte sectors (known once concluded). */
        public long capacitySectors()
        {
            return capacity;
        }

        protected void concludeDevice()
        {
            require(queueCount >= 1 && queueCount <= MAX_QUEUES,
                "a blk device needs 1.." + MAX_QUEUES + " queues: " + queueCount);
            require(serial != null && serial.length() <= 20 && StandardCharsets.US_ASCII.newEncoder().canEncode(serial),
                "the serial must be at most 20 ASCII characters: " + serial);
            long smallest = Long.MAX_VALUE;
            long maxTransfer = Long.MAX_VALUE;
            for (final BlockCard card : cards())
            {
                smallest = Math.min(smallest, card.capacitySectors());
                maxTransfer = Math.min(maxTransfer, card.maxTransferBytes());
            }
            capacity = smallest;
            // The front queues' chains hold seg_max segments (or the queue size, if larger), as before.
            tunables().maxSegments(maxSegments());
            require(maxTransfer >= PAGE, "a card takes requests of at most " + maxTransfer + " bytes, less than " + PAGE);
            // A guest request holds at most seg_max segments of at most size_max bytes each (Linux:
            // max_segments, max_segment_size): keep their product within every card's largest request.
            segMax = maxSegments();
            if (maxTransfer == Long.MAX_VALUE)
            {
                sizeMax = 0xFFFF_FFFFL;
            }
            else
            {
                sizeMax = Math.min(0xFFFF_F000L, Math.max(PAGE, maxTransfer / segMax / PAGE * PAGE));
                segMax = (int)Math.max(1, Math.min(segMax, maxTransfer / sizeMax));
            }
        }

        BlkConfig newConfig()
        {
            return new BlkConfig().capacity(capacity).sizeMax(sizeMax).segMax(segMax).blkSize(512).numQueues(queueCount)
                .maxDiscardSectors(capacity).maxDiscardSeg(1).discardSectorAlignment(1)
                .maxWriteZeroesSectors(capacity).maxWriteZeroesSeg(1).writeZeroesMayUnmap(1);
        }
    }
}
