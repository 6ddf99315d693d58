package dev.braid.aggregator;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.device.DeviceResetListener;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.QueueConfig;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.PackedQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;

import java.util.List;
import java.util.function.Consumer;

/**
 * The transport-facing life cycle every Braid device shares: the VMM forwards feature, status and
 * queue registers through {@link #core()}; DRIVER_OK builds the device-side queues from the
 * programmed addresses and then the aggregated device (the subclass's {@link #build}); a reset stops
 * the agents and fences every card, so no request of the old generation can touch guest memory.
 *
 * <p>Guest-programmed ring addresses are checked before use: the device is built over the enabled
 * leading request queues (Linux enables only as many as it has vCPUs, see {@link #leadingEnabledQueues});
 * a hole in them, no request queue at all, or rings that do not fit guest memory set DEVICE_NEEDS_RESET (with a config interrupt)
 * instead of throwing into the VMM, and so does a set of queues whose sizes add up to more device
 * state than {@link #MAX_QUEUE_ENTRIES} allows. Control path only: nothing here runs per request.
 *
 * <p>What a transport (virtio-pci, virtio-mmio, vhost-user) uses, the same on every device type:
 * {@link #core()}, {@link #writeStatus}, {@link #readConfig}/{@link #writeConfig}, {@link #kick},
 * {@link #checkHealth}, and the agents handed to the context's {@code onActivate} ({@link #agents()}).
 * Every device is built from one {@link DeviceContext} subclass, its only constructor parameter.
 */
public abstract class AbstractVirtioDevice implements DeviceResetListener
{
    /**
     * The most queue entries a guest may program over all its enabled queues, each queue counted as
     * at least {@link #MIN_QUEUE_ENTRIES}. Device state grows with the sum: per entry a front queue
     * holds about 250 bytes (in-flight table, completion ring of 4 per entry), a blk or scsi handler
     * up to 2 KB (a 128-segment I/O vector per head), every card queue a submission ring and worker
     * backlog of about 40 bytes; this budget is some 150 MB. 1 or 2 x 32768, 16 x 4096, 64 x 1024 and
     * 256 x 256 fit; beyond it DRIVER_OK sets DEVICE_NEEDS_RESET rather than allocating gigabytes on
     * a guest's word (0x8000 net pairs x 32768 entries would ask for 2^31 ring slots).
     */
    public static final long MAX_QUEUE_ENTRIES = 1 << 16;

    /** What a queue costs however small: a front queue's completion ring has at least 64 slots. */
    public static final int MIN_QUEUE_ENTRIES = 64;

    protected final GuestMemory memory;
    private final VirtioDeviceCore core;
    private final List<? extends Card> cards;
    private final Runnable configInterrupt;
    private final Consumer<List<Agent>> onActivate;
    private final Runnable onDeactivate;
    private AggregatedDevice device;
    private List<Agent> agents = List.of();

    /**
     * @param context a concluded context (the subclass concludes it before making its core).
     * @param core    the device type's feature, status and queue registers.
     */
    protected AbstractVirtioDevice(final DeviceContext<?, ?> context, final VirtioDeviceCore core)
    {
        if (!context.isConcluded())
        {
            throw new IllegalStateException("conclude() the context first");
        }
        this.memory = context.memory();
        this.core = core;
        this.cards = context.cards();
        this.configInterrupt = context.configInterrupt();
        this.onActivate = context.onActivate();
        this.onDeactivate = context.onDeactivate();
        core.addResetListener(this);
    }

    /** Feature, status and queue registers, as the transport sees them. */
    public final VirtioDeviceCore core()
    {
        return core;
    }

    /** A config space read of {@code width} bytes at {@code offset}; 0 outside the config space. */
    public abstract long readConfig(int offset, int width);

    /** A config space write; ignored (false) unless the device type allows the driver to write there. */
    public boolean writeConfig(final int offset, final int width, final long value)
    {
        return false;
    }

    /** The driver writes the status register; DRIVER_OK activates the queues. Returns the outcome. */
    public final int writeStatus(final int value)
    {
        final boolean wasLive = core.status().has(DeviceStatus.DRIVER_OK);
        final int outcome = core.writeStatus(value);
        if (!wasLive && core.status().has(DeviceStatus.DRIVER_OK) && device == null &&
            !core.status().has(DeviceStatus.DEVICE_NEEDS_RESET))
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
    public final boolean checkHealth()
    {
        if (device == null || !isBroken(device))
        {
            return true;
        }
        needsReset();
        return false;
    }

    /** The active aggregated device, or null before DRIVER_OK and after a reset. */
    public final AggregatedDevice device()
    {
        return device;
    }

    /** Front queue {@code q} of the active device, or null before DRIVER_OK. */
    public final FrontQueue frontQueue(final int q)
    {
        return device == null ? null : device.frontQueue(q);
    }

    /** The agents handed to the VMM at the last activation (empty before it). */
    public final List<Agent> agents()
    {
        return agents;
    }

    /**
     * Device reset: the agents stop, every card is fenced so that no request of the old
     * generation can touch guest memory, then unfenced for the next activation.
     */
    public final void onDeviceReset()
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
        agents = List.of();
        onDeactivated();
    }

    /**
     * Builds the aggregated device for the negotiated {@code features}, taking its rings from
     * {@link #queue}. Returns null when a queue was refused (NEEDS_RESET is then already set).
     */
    protected abstract AggregatedDevice build(long features);

    /** Every agent to run: the device's, plus any the subclass adds (a control queue agent). */
    protected List<Agent> agentsOf(final AggregatedDevice device)
    {
        return device.agents();
    }

    /** Whether a ring of the device broke; subclasses add rings that are not front queues. */
    protected boolean isBroken(final AggregatedDevice device)
    {
        for (int q = 0; q < device.guestQueueCount(); q++)
        {
            if (device.frontQueue(q).isBroken())
            {
                return true;
            }
        }
        return false;
    }

    /** Called after a reset tore the device down, to drop per-activation state. */
    protected void onDeactivated()
    {
    }

    /**
     * The device side of virtio queue {@code index} as the driver programmed it, or null (with
     * NEEDS_RESET set) when it is not enabled or its rings do not fit guest memory.
     */
    protected final DeviceQueue queue(final int index, final long features)
    {
        final boolean packed = VirtioFeatures.has(features, VirtioFeatures.RING_PACKED);
        final boolean eventIdx = VirtioFeatures.has(features, VirtioFeatures.EVENT_IDX);
        final boolean indirect = VirtioFeatures.has(features, VirtioFeatures.INDIRECT_DESC);
        if (index < 0 || index >= core.queueCount())
        {
            needsReset();
            return null;
        }
        final QueueConfig qc = core.queue(index);
        final String problem = !qc.isEnabled() ? "not enabled" : packed ?
            PackedQueue.checkLayout(memory, qc.size(), qc.descriptorArea(), qc.driverArea(), qc.deviceArea()) :
            SplitQueue.checkLayout(memory, qc.size(), qc.descriptorArea(), qc.driverArea(), qc.deviceArea());
        if (problem != null)
        {
            needsReset();
            return null;
        }
        return packed ?
            new PackedQueue(memory, qc.size(), qc.descriptorArea(), qc.driverArea(), qc.deviceArea(), eventIdx, indirect) :
            new SplitQueue(memory, qc.size(), qc.descriptorArea(), qc.driverArea(), qc.deviceArea(), eventIdx, indirect);
    }

    /**
     * How many queues from {@code first} on are enabled, all of them leading (queues first..first+k-1
     * enabled, the rest not); -1 with NEEDS_RESET set when an enabled queue follows a disabled one
     * or none is enabled.
     */
    protected final int leadingEnabledQueues(final int first)
    {
        int end = first;
        while (end < core.queueCount() && core.queue(end).isEnabled())
        {
            end++;
        }
        for (int q = end; q < core.queueCount(); q++)
        {
            if (core.queue(q).isEnabled())
            {
                needsReset();
                return -1;
            }
        }
        if (end == first)
        {
            needsReset();
            return -1;
        }
        return end - first;
    }

    /** Sets DEVICE_NEEDS_RESET; raises the config interrupt the first time. */
    protected final void needsReset()
    {
        if (core.needsReset())
        {
            configInterrupt.run();
        }
    }

    /** The device changed its config space: new generation, config interrupt. */
    protected final void configChanged()
    {
        core.configChanged();
        configInterrupt.run();
    }

    private void activate()
    {
        long entries = 0;
        for (int q = 0; q < core.queueCount(); q++)
        {
            final QueueConfig qc = core.queue(q);
            if (qc.isEnabled())
            {
                entries += Math.max(qc.size(), MIN_QUEUE_ENTRIES);
            }
        }
        if (entries > MAX_QUEUE_ENTRIES)
        {
            // Refused before anything is allocated: see MAX_QUEUE_ENTRIES.
            needsReset();
            return;
        }
        final AggregatedDevice built = build(core.features().acked());
        if (built == null)
        {
            return;
        }
        device = built;
        agents = List.copyOf(agentsOf(built));
        onActivate.accept(agents);
    }
}
