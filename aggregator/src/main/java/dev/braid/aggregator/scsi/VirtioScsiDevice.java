package dev.braid.aggregator.scsi;

import dev.braid.aggregator.AbstractVirtioDevice;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.DeviceContext;
import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.device.FeatureNegotiation;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.scsi.ScsiConfig;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.VirtioScsi;
import org.agrona.concurrent.Agent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a VMM attaches to its transport for a virtio-scsi device served by several HBAs (multipath).
 * Virtio queues are control (0), event (1) and request queues 2..num_queues+1. The device is built
 * from one {@link Context}; DRIVER_OK builds a {@link ScsiDevice} ({@link #aggregate}) over the programmed rings, its {@link AggregatedDevice} and the
 * {@link ScsiControlQueue} agent; the VMM runs all of them.
 *
 * <p>Config space: num_queues, seg_max, max_sectors, cmd_per_lun, event_info_size, sense_size and
 * cdb_size (the driver may write these two; they take effect at the next DRIVER_OK, and a value
 * Braid cannot honour then sets NEEDS_RESET), max_channel 0, max_target, max_lun. No device-type
 * features are offered (no INOUT, HOTPLUG, CHANGE or T10_PI): only the standard ring features.
 */
public final class VirtioScsiDevice extends AbstractVirtioDevice
{
    public static final int SEG_MAX = 128;
    /** The largest transfer offered, in 512-byte sectors. */
    public static final int MAX_SECTORS = 0xFFFF;
    /** queue_select is 16 bits: 65536 queues, two of them control and event. */
    public static final int MAX_REQUEST_QUEUES = 0x10000 - ScsiDevice.FIRST_REQUEST_QUEUE;

    private final Context context;
    private final ScsiConfig config = new ScsiConfig();
    private volatile ScsiDevice scsi;
    private volatile ScsiControlQueue control;

    public VirtioScsiDevice(final Context context)
    {
        super(context.conclude(), newCore(context));
        this.context = context;
        config.numQueues(context.requestQueues()).segMax(context.maxSegments()).maxSectors(MAX_SECTORS)
            .cmdPerLun(context.queueMaxSize()).eventInfoSize(ScsiDescriptor.EVENT_LENGTH).maxChannel(0)
            .maxTarget(context.maxTarget()).maxLun(context.maxLun());
    }

    private static VirtioDeviceCore newCore(final Context context)
    {
        final int[] sizes = new int[context.requestQueues() + ScsiDevice.FIRST_REQUEST_QUEUE];
        Arrays.fill(sizes, context.queueMaxSize());
        return new VirtioDeviceCore(VirtioScsi.VIRTIO_ID_SCSI, FeatureNegotiation.offer(0, false, false), sizes);
    }

    public long readConfig(final int offset, final int width)
    {
        return config.read(offset, width);
    }

    /** sense_size and cdb_size are driver-writable; every other write is refused. */
    public boolean writeConfig(final int offset, final int width, final long value)
    {
        return config.write(offset, width, value);
    }

    /** The active scsi device, or null before DRIVER_OK. */
    public ScsiDevice scsi()
    {
        return scsi;
    }

    /** The control queue agent of the active device, or null. */
    public ScsiControlQueue controlQueue()
    {
        return control;
    }

    protected AggregatedDevice build(final long features)
    {
        final long cdbSize = config.cdbSize();
        final long senseSize = config.senseSize();
        if (cdbSize < 1 || cdbSize > VirtioScsi.MAX_CDB_SIZE || senseSize > VirtioScsi.MAX_SENSE_SIZE)
        {
            // The driver asked for sizes Braid's buffers cannot hold.
            needsReset();
            return null;
        }
        final DeviceQueue controlQueue = queue(0, features);
        final DeviceQueue eventQueue = controlQueue == null ? null : queue(1, features);
        if (eventQueue == null)
        {
            return null;
        }
        final int enabled = leadingEnabledQueues(ScsiDevice.FIRST_REQUEST_QUEUE);
        if (enabled < 1)
        {
            return null;
        }
        final DeviceQueue[] request = new DeviceQueue[enabled];
        for (int i = 0; i < request.length; i++)
        {
            request[i] = queue(ScsiDevice.FIRST_REQUEST_QUEUE + i, features);
            if (request[i] == null)
            {
                return null;
            }
        }
        final ScsiDevice built = aggregate(context, controlQueue, eventQueue, request, (int)cdbSize, (int)senseSize);
        control = built.controlQueue();
        scsi = built;
        return built.device();
    }

    /**
     * The aggregated scsi device over device-side rings that are already set up: what DRIVER_OK
     * builds, and what a rig without a transport builds over its driver model's rings. Request queue
     * {@code i} is virtio queue {@code i + 2}. Run {@link ScsiDevice#controlQueue()} beside the
     * device's agents.
     *
     * @param cdbSize   cdb_size as the driver left it (default {@link VirtioScsi#VIRTIO_SCSI_CDB_DEFAULT_SIZE}).
     * @param senseSize sense_size as the driver left it.
     */
    public static ScsiDevice aggregate(
        final Context context, final DeviceQueue controlQueue, final DeviceQueue eventQueue,
        final DeviceQueue[] requestQueues, final int cdbSize, final int senseSize)
    {
        context.conclude();
        final ScsiDevice scsi = ScsiDevice.builder().memory(context.memory()).controlQueue(controlQueue)
            .eventQueue(eventQueue).requestQueues(requestQueues).sizes(cdbSize, senseSize)
            .limits(context.maxTarget(), context.maxLun()).maxCards(context.maxCards())
            .maxSegments(context.maxSegments()).tmfTimeoutNanos(context.tmfTimeoutNanos())
            .interrupts(context.interrupts()).build();
        scsi.attach(scsi.configure(context.deviceBuilder(requestQueues.length)).build());
        return scsi;
    }

    protected List<Agent> agentsOf(final AggregatedDevice device)
    {
        final List<Agent> agents = new ArrayList<>(device.agents());
        agents.add(control);
        return agents;
    }

    protected boolean isBroken(final AggregatedDevice device)
    {
        final ScsiControlQueue c = control;
        return super.isBroken(device) || (c != null && c.isBroken());
    }

    protected void onDeactivated()
    {
        scsi = null;
        control = null;
    }

    /**
     * Everything a virtio-scsi device is made of: the {@link DeviceContext} settings plus num_queues,
     * max_target, max_lun, seg_max and the TMF timeout. Defaults: 1 request queue, target 0 LUN 0,
     * seg_max 128, TMF timeout 30 s, active-active queue-affine.
     */
    public static final class Context extends DeviceContext<Context, ScsiCard>
    {
        private int requestQueues = 1;
        private int maxTarget;
        private int maxLun;
        private long tmfTimeoutNanos = 30_000_000_000L;

        public Context()
        {
            super(SEG_MAX, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE));
        }

        /** num_queues: request queues, not counting control and event. */
        public Context requestQueues(final int requestQueues)
        {
            set().requestQueues = requestQueues;
            return this;
        }

        public int requestQueues()
        {
            return requestQueues;
        }

        /** max_target of the config space (targets 0..maxTarget, at most 255). */
        public Context maxTarget(final int maxTarget)
        {
            set().maxTarget = maxTarget;
            return this;
        }

        public int maxTarget()
        {
            return maxTarget;
        }

        /** max_lun of the config space. */
        public Context maxLun(final int maxLun)
        {
            set().maxLun = maxLun;
            return this;
        }

        public int maxLun()
        {
            return maxLun;
        }

        /** How long a TMF may wait for cards and affected tasks before it answers FAILURE. */
        public Context tmfTimeoutNanos(final long tmfTimeoutNanos)
        {
            set().tmfTimeoutNanos = tmfTimeoutNanos;
            return this;
        }

        public long tmfTimeoutNanos()
        {
            return tmfTimeoutNanos;
        }

        protected void concludeDevice()
        {
            require(requestQueues >= 1 && requestQueues <= MAX_REQUEST_QUEUES,
                "a scsi device needs 1.." + MAX_REQUEST_QUEUES + " request queues: " + requestQueues);
            require(maxTarget >= 0 && maxTarget <= 255, "max target must be 0..255: " + maxTarget);
            require(maxLun >= 0 && maxLun <= ScsiLun.MAX_LUN, "max lun must be 0.." + ScsiLun.MAX_LUN + ": " + maxLun);
            require(tmfTimeoutNanos > 0, "TMF timeout must be > 0 ns: " + tmfTimeoutNanos);
        }
    }
}
