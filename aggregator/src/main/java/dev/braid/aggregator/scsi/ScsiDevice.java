package dev.braid.aggregator.scsi;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.InterruptSink;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.ScsiRequestParser;
import dev.braid.virtio.scsi.VirtioScsi;

/**
 * An aggregated virtio-scsi device as {@link VirtioScsiDevice#aggregate} builds it: a
 * {@link ScsiRequestHandler} per request queue (each becomes a front queue of the
 * {@link AggregatedDevice}), the shared {@link ScsiTaskTable}, the probe handler
 * ({@link ScsiProbeHandler}), the task management control channel ({@link ScsiTmfRelay}), and the
 * {@link ScsiControlQueue} agent that serves the control and event queues (run it beside
 * {@link #device()}'s agents).
 *
 * Aggregator guest queue {@code i} is virtio queue {@code i + 2}; {@link #configure} maps interrupts.
 * The cdb_size and sense_size given here are fixed for the device's life: a driver that writes other
 * values must be answered by rebuilding the device at its next reset.
 */
public final class ScsiDevice
{
    /** Virtio index of the first request queue (0 is control, 1 is event). */
    public static final int FIRST_REQUEST_QUEUE = 2;

    private final Builder config;
    private final ScsiTaskTable tasks;
    private final ScsiRequestHandler[] handlers;
    private final ScsiTmfRelay relay;
    private final ScsiProbeHandler probe;
    private ScsiControlQueue controlQueue;
    private AggregatedDevice<ScsiCard> device;

    private ScsiDevice(final Builder config)
    {
        this.config = config;
        final DeviceQueue[] queues = config.requestQueues;
        int queueSize = 0;
        for (final DeviceQueue queue : queues)
        {
            queueSize = Math.max(queueSize, queue.size());
        }
        tasks = new ScsiTaskTable(queues.length, queueSize);
        handlers = new ScsiRequestHandler[queues.length];
        for (int i = 0; i < queues.length; i++)
        {
            handlers[i] = new ScsiRequestHandler(
                config.memory, config.newParser(), tasks, i, queues[i].size(), config.maxSegments);
        }
        relay = new ScsiTmfRelay(ScsiControlQueue.MAX_CONCURRENT_TMFS * config.maxCards);
        probe = new ScsiProbeHandler(config.maxCards);
    }

    static Builder builder()
    {
        return new Builder();
    }

    /**
     * Gives the device builder its guest queues, handlers, probe handler, task management channel,
     * card limit and interrupts.
     */
    AggregatedDevice.Builder<ScsiCard> configure(final AggregatedDevice.Builder<ScsiCard> builder)
    {
        final InterruptSink interrupts = config.interrupts;
        return builder
            .maxCards(config.maxCards)
            .queues(config.requestQueues.clone(), handlers.clone())
            .probeHandler(probe)
            .controlChannel(relay, relay.completions())
            .interrupts(q -> interrupts.interrupt(q + FIRST_REQUEST_QUEUE));
    }

    /**
     * Builds the control queue agent over a device built with {@link #configure}; its cards are
     * {@link ScsiCard}s by type.
     */
    ScsiControlQueue attach(final AggregatedDevice<ScsiCard> device)
    {
        if (controlQueue != null)
        {
            throw new IllegalStateException("already attached");
        }
        if (device.guestQueueCount() != handlers.length || device.frontQueue(0).handler() != handlers[0])
        {
            throw new IllegalArgumentException("the device was not configured by this ScsiDevice");
        }
        this.device = device;
        controlQueue = new ScsiControlQueue(
            config.memory, config.controlQueue, config.eventQueue, 0, config.newParser(), tasks, relay, device,
            config.interrupts, device.clock(), config.tmfTimeoutNanos);
        return controlQueue;
    }

    /** The aggregated device, once {@link #attach}ed. */
    public AggregatedDevice<ScsiCard> device()
    {
        return device;
    }

    public int requestQueueCount()
    {
        return handlers.length;
    }

    public ScsiRequestHandler requestHandler(final int requestQueue)
    {
        return handlers[requestQueue];
    }

    public ScsiProbeHandler probeHandler()
    {
        return probe;
    }

    public ScsiTaskTable tasks()
    {
        return tasks;
    }

    /** The control queue agent, once {@link #attach}ed. */
    public ScsiControlQueue controlQueue()
    {
        return controlQueue;
    }

    /** Everything a scsi device is made of; {@link #build()} validates it. */
    static final class Builder
    {
        private GuestMemory memory;
        private DeviceQueue controlQueue;
        private DeviceQueue eventQueue;
        private DeviceQueue[] requestQueues;
        private int cdbSize = VirtioScsi.VIRTIO_SCSI_CDB_DEFAULT_SIZE;
        private int senseSize = VirtioScsi.VIRTIO_SCSI_SENSE_DEFAULT_SIZE;
        private int maxTarget = 255;
        private int maxLun = ScsiLun.MAX_LUN;
        private boolean inout;
        private int maxCards = 8;
        private int maxSegments = 256;
        private long tmfTimeoutNanos = 30_000_000_000L;
        private InterruptSink interrupts = q -> {};

        public Builder memory(final GuestMemory memory)
        {
            this.memory = memory;
            return this;
        }

        /** Virtio queue 0. */
        public Builder controlQueue(final DeviceQueue controlQueue)
        {
            this.controlQueue = controlQueue;
            return this;
        }

        /** Virtio queue 1. */
        public Builder eventQueue(final DeviceQueue eventQueue)
        {
            this.eventQueue = eventQueue;
            return this;
        }

        /** Virtio queues 2, 3, ... */
        public Builder requestQueues(final DeviceQueue... requestQueues)
        {
            this.requestQueues = requestQueues.clone();
            return this;
        }

        /** cdb_size and sense_size as the config space gives them (defaults 32 and 96). */
        public Builder sizes(final int cdbSize, final int senseSize)
        {
            this.cdbSize = cdbSize;
            this.senseSize = senseSize;
            return this;
        }

        /** max_target and max_lun of the config space. */
        public Builder limits(final int maxTarget, final int maxLun)
        {
            this.maxTarget = maxTarget;
            this.maxLun = maxLun;
            return this;
        }

        /** Whether VIRTIO_SCSI_F_INOUT was negotiated. */
        public Builder inout(final boolean inout)
        {
            this.inout = inout;
            return this;
        }

        /** Most cards the device will ever hold (sets the aggregated device's max cards too). */
        public Builder maxCards(final int maxCards)
        {
            this.maxCards = maxCards;
            return this;
        }

        /** Most data segments one command may have in each direction (virtio-scsi seg_max). */
        public Builder maxSegments(final int maxSegments)
        {
            this.maxSegments = maxSegments;
            return this;
        }

        /** How long a TMF may wait for cards and affected tasks before it answers FAILURE. */
        public Builder tmfTimeoutNanos(final long tmfTimeoutNanos)
        {
            this.tmfTimeoutNanos = tmfTimeoutNanos;
            return this;
        }

        /** The VMM's interrupt sink, by virtio queue index. */
        public Builder interrupts(final InterruptSink interrupts)
        {
            this.interrupts = interrupts;
            return this;
        }

        ScsiRequestParser newParser()
        {
            return new ScsiRequestParser().sizes(cdbSize, senseSize).limits(maxTarget, maxLun).inout(inout);
        }

        public ScsiDevice build()
        {
            if (memory == null || controlQueue == null || eventQueue == null)
            {
                throw new IllegalArgumentException("memory, control queue and event queue are required");
            }
            if (requestQueues == null || requestQueues.length == 0)
            {
                throw new IllegalArgumentException("a scsi device needs at least one request queue");
            }
            if (cdbSize < 1 || cdbSize > VirtioScsi.MAX_CDB_SIZE || senseSize < 0 || senseSize > VirtioScsi.MAX_SENSE_SIZE)
            {
                throw new IllegalArgumentException("cdb size must be 1.." + VirtioScsi.MAX_CDB_SIZE +
                    " and sense size 0.." + VirtioScsi.MAX_SENSE_SIZE + ": " + cdbSize + ", " + senseSize);
            }
            if (maxCards < 1 || maxCards > 64)
            {
                throw new IllegalArgumentException("max cards must be 1..64: " + maxCards);
            }
            if (maxSegments < 1 || tmfTimeoutNanos <= 0)
            {
                throw new IllegalArgumentException("max segments and TMF timeout must be positive");
            }
            return new ScsiDevice(this);
        }
    }
}
