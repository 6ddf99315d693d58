package dev.braid.vhostuser;

import dev.braid.aggregator.AbstractVirtioDevice;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.DeviceContext;
import dev.braid.aggregator.FrontQueue;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * A vhost-user back end over a Braid device that has a virtio transport ({@link AbstractVirtioDevice}:
 * blk, scsi). Each start builds a new device over the front end's memory and plays its transport:
 * status dance, features, queue registers, DRIVER_OK. At activation, before the agents run, every
 * split ring moves to the front end's indices (avail from SET_VRING_BASE, used from guest memory);
 * then the agents start ({@link BackendAgents}: with one thread, a {@link KickWaiter} over every
 * ring's kick fd). A stop waits (bounded) for the requests in flight, stops the agents, completes
 * what their last pass took (the rings frozen, {@link BackendAgents#stopDrained}), resets the device
 * (cards fenced) and reports each ring's next avail index, every chain before it completed (scsi:
 * but the event buffers held, handed back). Packed rings are not offered
 * (GET_VRING_BASE for them needs wrap counters, not done yet).
 *
 * <p>A device type gives its {@link #newDevice} (its Context over {@link #configure}) and its
 * {@link #activeRings} (which device-side ring is which vhost-user ring, what is in flight).
 * Control thread only, except {@link #runningDevice()}, {@link #kickWaiter()}, {@link #starts()} and
 * {@link #lateStops()}.
 *
 * @param <K> the card type.
 * @param <D> the Braid device type.
 */
public abstract class TransportBackendDevice<K extends Card, D extends AbstractVirtioDevice> implements BackendDevice
{
    private final BackendSettings<K> settings;
    private final BackendAgents agents;
    private final int maxRings;
    private final D configView;
    private final long features;
    private D device;
    private ActiveRings active;
    /** The aggregated device between DRIVER_OK and stop, for monitors on other threads. */
    private volatile AggregatedDevice<?> live;
    private int[] pendingBases = new int[0];
    private volatile long starts;

    /**
     * @param maxRings      every vhost-user ring the device offers (GET_QUEUE_NUM).
     * @param extraFeatures offered beside the device's own (the transport strips them in {@link #deviceFeatures}).
     */
    TransportBackendDevice(final BackendSettings<K> settings, final int maxRings, final long extraFeatures)
    {
        this.settings = settings;
        this.agents = new BackendAgents(settings.agentThreads);
        this.maxRings = maxRings;
        // Never activated: it only answers config reads and feature offers before memory arrives.
        this.configView = newDevice(GuestMemory.allocate(4096), maxRings, null);
        this.features = configView.core().features().offered() & ~(1L << VirtioFeatures.RING_PACKED) | extraFeatures;
    }

    /**
     * A new device over {@code memory} for {@code rings} vhost-user rings, its context set up by
     * {@link #configure}. Also called by the constructor (the config view): it may use nothing of
     * the subclass's own fields.
     */
    abstract D newDevice(GuestMemory memory, int rings, IntConsumer calls);

    /** The rings of {@code device}, just activated (its front queues exist), in vhost-user ring order. */
    abstract ActiveRings activeRings(D device);

    /** The features the device acks, of those the front end negotiated: all but the transport's extras. */
    long deviceFeatures(final long negotiated)
    {
        return negotiated;
    }

    /**
     * The context settings every start shares (cards, ring size, aggregation, interrupts) and the
     * activation hooks that move the rings and run the agents.
     */
    final <C extends DeviceContext<C, K>> C configure(final C context, final GuestMemory memory, final IntConsumer calls)
    {
        return settings.applyTo(context, memory, calls)
            .onActivate(running -> activated(running, memory))
            .onDeactivate(this::deactivated);
    }

    public final long features()
    {
        return features;
    }

    public final int maxQueues()
    {
        return maxRings;
    }

    public final int maxQueueSize()
    {
        return settings.maxQueueSize;
    }

    public final int readConfigByte(final int offset)
    {
        return (int)configView.readConfig(offset, 1) & 0xFF;
    }

    public final void kickFds(final int[] kickFds, final int count)
    {
        agents.kickFds(kickFds, count);
    }

    public final long starts()
    {
        return starts;
    }

    /** Stops that completed requests the agents took after the drain (see {@link BackendAgents#stopDrained}). Any thread. */
    public final long lateStops()
    {
        return agents.lateStops();
    }

    /** The running device's idle strategy (null when stopped, or with more than one agent thread). */
    public final KickWaiter kickWaiter()
    {
        return agents.kickWaiter();
    }

    /** After DRIVER_OK, once the agents run, until the stop's reset. */
    public final AggregatedDevice<?> runningDevice()
    {
        return live;
    }

    public final String start(
        final GuestMemory memory, final long features, final int count, final int[] sizes, final long[] desc,
        final long[] avail, final long[] used, final int[] bases, final IntConsumer calls)
    {
        final String kind = settings.kind;
        if (device != null)
        {
            return kind + " device already running";
        }
        if (count < minRings() || count > maxRings)
        {
            return kind + " rings " + count + " outside " + minRings() + ".." + maxRings;
        }
        final D built = newDevice(memory, count, calls);
        final VirtioDeviceCore core = built.core();
        final int driver = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER;
        built.writeStatus(DeviceStatus.ACKNOWLEDGE);
        built.writeStatus(driver);
        if (!core.features().ackFeatures(deviceFeatures(features)))
        {
            return kind + " device refused features 0x" + Long.toHexString(features);
        }
        built.writeStatus(driver | DeviceStatus.FEATURES_OK);
        if (!core.status().has(DeviceStatus.FEATURES_OK))
        {
            return kind + " device refused FEATURES_OK for 0x" + Long.toHexString(features);
        }
        for (int q = 0; q < count; q++)
        {
            core.queueSelect(q);
            if (!core.queueSize(sizes[q]) || !core.queueDescriptorArea(desc[q]) || !core.queueDriverArea(avail[q]) ||
                !core.queueDeviceArea(used[q]) || !core.queueEnable(1))
            {
                return kind + " device refused ring " + q + " (size " + sizes[q] + ")";
            }
        }
        // DRIVER_OK activates it: see activated, which finds it here.
        this.device = built;
        pendingBases = bases;
        built.writeStatus(driver | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        if (built.device() == null)
        {
            this.device = null;
            return kind + " device refused DRIVER_OK (rings outside memory or too large)";
        }
        starts = starts + 1;
        return null;
    }

    public final boolean isRunning()
    {
        return device != null;
    }

    public final int stop(final int[] bases)
    {
        final D running = device;
        if (running == null)
        {
            return 0;
        }
        final ActiveRings rings = active;
        // Nothing owed when it returns (normally): the agents are stopped, the rings frozen.
        final int inFlight = agents.stopDrained(rings.rings, rings::inFlight);
        running.writeStatus(0);
        // The rings' indices and held buffers stay as they are now.
        for (int q = 0; q < rings.count(); q++)
        {
            final DeviceQueue ring = rings.ring(q);
            bases[q] = ring instanceof SplitQueue ? (((SplitQueue)ring).lastAvailIndex() - rings.held(q)) & 0xFFFF : bases[q];
        }
        device = null;
        active = null;
        return inFlight;
    }

    public final void close()
    {
        if (device != null)
        {
            stop(new int[maxRings]);
        }
    }

    /** DRIVER_OK built the aggregated device (inside {@link #start}): move the rings, run the agents. */
    private void activated(final List<Agent> running, final GuestMemory memory)
    {
        final D activating = device;
        final ActiveRings rings = activeRings(activating);
        active = rings;
        final VirtioDeviceCore core = activating.core();
        for (int q = 0; q < rings.count(); q++)
        {
            final DeviceQueue ring = rings.ring(q);
            if (ring instanceof SplitQueue)
            {
                final int usedIdx = memory.getShort(core.queue(q).deviceArea() + 2) & 0xFFFF;
                ((SplitQueue)ring).startAt(pendingBases[q], usedIdx);
            }
        }
        agents.start(running, rings.rings, () -> rings.inFlight() == 0);
        live = activating.device();
    }

    private void deactivated()
    {
        live = null;
        agents.stop();
    }

    /**
     * One activation's rings in vhost-user ring order: first those that are not front queues (scsi's
     * control and event rings), then the device side of every front queue. Captured at activation
     * and read by the control thread, and by the one agent thread through {@link #inFlight} while
     * it idles (the front queues' counts are then that thread's own).
     */
    static class ActiveRings
    {
        private final DeviceQueue[] rings;
        private final FrontQueue[] queues;

        ActiveRings(final AbstractVirtioDevice device, final DeviceQueue... leading)
        {
            final int count = device.core().queueCount();
            rings = new DeviceQueue[count];
            queues = new FrontQueue[count - leading.length];
            System.arraycopy(leading, 0, rings, 0, leading.length);
            for (int i = 0; i < queues.length; i++)
            {
                queues[i] = device.frontQueue(i);
                rings[leading.length + i] = queues[i].deviceQueue();
            }
        }

        final int count()
        {
            return rings.length;
        }

        final DeviceQueue ring(final int q)
        {
            return rings[q];
        }

        /** Requests popped and not yet completed: a stop waits for them, and the agent thread sleeps only at 0. */
        int inFlight()
        {
            int sum = 0;
            for (final FrontQueue queue : queues)
            {
                sum += queue.inFlight();
            }
            return sum;
        }

        /** Buffers of ring {@code q} the device popped and holds unused: a stop hands them back. */
        int held(final int q)
        {
            return 0;
        }
    }
}
