package dev.braid.aggregator.scsi;

import dev.braid.aggregator.AbstractVirtioDevice;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.InterruptSink;
import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.HealthConfig;
import dev.braid.ha.MapPolicy;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.device.FeatureNegotiation;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.scsi.ScsiConfig;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.VirtioScsi;
import org.agrona.concurrent.Agent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What a VMM attaches to its transport for a virtio-scsi device served by several HBAs (multipath).
 * Virtio queues are control (0), event (1) and request queues 2..num_queues+1. DRIVER_OK builds a
 * {@link ScsiDevice} over the programmed rings, its {@link AggregatedDevice} and the
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

    private final List<ScsiCard> cards;
    private final ScsiConfig config = new ScsiConfig();
    private final int requestQueues;
    private final Function<Integer, MapPolicy> policy;
    private final DispatchPolicy dispatch;
    private final HealthConfig health;
    private final AllDownPolicy allDown;
    private final InterruptSink interrupts;
    private volatile ScsiDevice scsi;
    private volatile ScsiControlQueue control;

    /**
     * @param requestQueues num_queues: request queues, not counting control and event.
     * @param maxTarget     max_target of the config space (targets 0..maxTarget).
     * @param maxLun        max_lun of the config space.
     * @param policy        makes the map policy for a given number of request queues.
     * @param interrupts    queue interrupts by virtio queue index.
     */
    public VirtioScsiDevice(
        final GuestMemory memory, final List<ScsiCard> cards, final int requestQueues, final int queueMaxSize,
        final int maxTarget, final int maxLun, final Function<Integer, MapPolicy> policy,
        final DispatchPolicy dispatch, final HealthConfig health, final AllDownPolicy allDown,
        final InterruptSink interrupts, final Runnable configInterrupt, final Consumer<List<Agent>> onActivate,
        final Runnable onDeactivate)
    {
        super(memory, newCore(requestQueues, queueMaxSize), cards, configInterrupt, onActivate, onDeactivate);
        if (maxTarget < 0 || maxTarget > 255 || maxLun < 0 || maxLun > ScsiLun.MAX_LUN)
        {
            throw new IllegalArgumentException("max target must be 0..255 and max lun 0.." + ScsiLun.MAX_LUN);
        }
        this.cards = List.copyOf(cards);
        this.requestQueues = requestQueues;
        this.policy = policy;
        this.dispatch = dispatch;
        this.health = health;
        this.allDown = allDown;
        this.interrupts = interrupts;
        config.numQueues(requestQueues).segMax(SEG_MAX).maxSectors(MAX_SECTORS).cmdPerLun(queueMaxSize)
            .eventInfoSize(ScsiDescriptor.EVENT_LENGTH).maxChannel(0).maxTarget(maxTarget).maxLun(maxLun);
    }

    private static VirtioDeviceCore newCore(final int requestQueues, final int queueMaxSize)
    {
        if (requestQueues < 1 || requestQueues > MAX_REQUEST_QUEUES)
        {
            throw new IllegalArgumentException("a scsi device needs 1.." + MAX_REQUEST_QUEUES + " request queues: " +
                requestQueues);
        }
        final int[] sizes = new int[requestQueues + ScsiDevice.FIRST_REQUEST_QUEUE];
        Arrays.fill(sizes, queueMaxSize);
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
        final DeviceQueue[] request = new DeviceQueue[requestQueues];
        for (int i = 0; i < requestQueues; i++)
        {
            request[i] = queue(ScsiDevice.FIRST_REQUEST_QUEUE + i, features);
            if (request[i] == null)
            {
                return null;
            }
        }
        final int maxCards = Math.max(8, cards.size());
        final ScsiDevice built = ScsiDevice.builder().memory(memory).controlQueue(controlQueue).eventQueue(eventQueue)
            .requestQueues(request).sizes((int)cdbSize, (int)senseSize)
            .limits(config.maxTarget(), (int)config.maxLun()).maxCards(maxCards).maxSegments(SEG_MAX)
            .interrupts(interrupts).build();
        final AggregatedDevice.Builder builder = built.configure(AggregatedDevice.<ScsiCard>builder().clock(clock()))
            .mapPolicy(policy.apply(requestQueues)).dispatchPolicy(dispatch).healthConfig(health)
            .allDownPolicy(allDown);
        for (final ScsiCard card : cards)
        {
            builder.card(card);
        }
        final AggregatedDevice device = builder.build();
        control = built.attach(device);
        scsi = built;
        return device;
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
}
