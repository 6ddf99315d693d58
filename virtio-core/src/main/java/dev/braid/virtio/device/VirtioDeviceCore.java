package dev.braid.virtio.device;

import java.util.ArrayList;
import java.util.List;

/**
 * The transport-facing state of one virtio device: feature negotiation, the status register and
 * each queue's raw configuration, driven the way a virtio-pci or virtio-mmio transport drives a
 * device (select registers, then reads and writes). It creates no queue objects: a device builds
 * its split or packed queues from the {@link QueueConfig}s when they are enabled.
 *
 * <p>Not thread-safe: configuration accesses arrive serialised from the VMM's transport thread.
 * Reset listeners run on that thread, inside {@link #reset()}.
 */
public final class VirtioDeviceCore
{
    private final int deviceId;
    private final FeatureNegotiation features;
    private final DeviceStatus status = new DeviceStatus();
    private final QueueConfig[] queues;
    private final List<DeviceResetListener> listeners = new ArrayList<>();
    private int queueSelect;
    private int configGeneration;

    /**
     * @param deviceId      the virtio device id (1 net, 2 blk, 8 scsi).
     * @param features      the offer; owned by this core from now on.
     * @param queueMaxSizes the maximum size of each queue, which also fixes the queue count.
     */
    public VirtioDeviceCore(final int deviceId, final FeatureNegotiation features, final int... queueMaxSizes)
    {
        if (queueMaxSizes.length == 0)
        {
            throw new IllegalArgumentException("a device needs at least one queue");
        }
        this.deviceId = deviceId;
        this.features = features;
        this.queues = new QueueConfig[queueMaxSizes.length];
        for (int i = 0; i < queues.length; i++)
        {
            queues[i] = new QueueConfig(i, queueMaxSizes[i]);
        }
    }

    public int deviceId()
    {
        return deviceId;
    }

    public FeatureNegotiation features()
    {
        return features;
    }

    public DeviceStatus status()
    {
        return status;
    }

    public int queueCount()
    {
        return queues.length;
    }

    public QueueConfig queue(final int index)
    {
        return queues[index];
    }

    public void addResetListener(final DeviceResetListener listener)
    {
        listeners.add(listener);
    }

    public void removeResetListener(final DeviceResetListener listener)
    {
        listeners.remove(listener);
    }

    /** The configuration generation; bumped whenever device-side config changes. */
    public int configGeneration()
    {
        return configGeneration;
    }

    /** The device changed its config space; the transport should raise a config interrupt. */
    public void configChanged()
    {
        configGeneration++;
    }

    // ---------------------------------------------------------------- status

    /** The driver writes the status register; see {@link DeviceStatus#write} for outcomes. */
    public int writeStatus(final int value)
    {
        final int outcome = status.write(value, features);
        if (outcome == DeviceStatus.RESET)
        {
            reset();
        }
        return outcome;
    }

    public int readStatus()
    {
        return status.get();
    }

    /**
     * The device hit an unrecoverable error (a broken ring). Returns true when the transport
     * should raise a configuration-change interrupt.
     */
    public boolean needsReset()
    {
        final boolean newlySet = status.needsReset();
        if (newlySet)
        {
            configGeneration++;
        }
        return newlySet && status.has(DeviceStatus.DRIVER_OK);
    }

    /** Device reset: features, status and every queue back to their initial state; listeners told. */
    public void reset()
    {
        status.reset();
        features.reset();
        for (final QueueConfig queue : queues)
        {
            queue.reset();
        }
        queueSelect = 0;
        for (int i = 0, n = listeners.size(); i < n; i++)
        {
            listeners.get(i).onDeviceReset();
        }
    }

    // ---------------------------------------------------------------- queue registers

    public void queueSelect(final int index)
    {
        queueSelect = index & 0xFFFF;
    }

    public int queueSelect()
    {
        return queueSelect;
    }

    /** The selected queue, or null when the select names no queue (reads give 0, writes are dropped). */
    public QueueConfig selectedQueue()
    {
        return queueSelect < queues.length ? queues[queueSelect] : null;
    }

    /** queue_size read: the current size, 0 for a queue that does not exist. */
    public int queueSize()
    {
        final QueueConfig queue = selectedQueue();
        return queue == null ? 0 : queue.size();
    }

    /** Queue setup is legal between FEATURES_OK and DRIVER_OK, or for a queue disabled by RING_RESET. */
    private QueueConfig writableQueue()
    {
        final QueueConfig queue = selectedQueue();
        if (queue == null || !status.has(DeviceStatus.FEATURES_OK) || status.has(DeviceStatus.FAILED))
        {
            return null;
        }
        return queue;
    }

    public boolean queueSize(final int size)
    {
        final QueueConfig queue = writableQueue();
        return queue != null && queue.size(size & 0xFFFF);
    }

    public boolean queueDescriptorArea(final long gpa)
    {
        final QueueConfig queue = writableQueue();
        return queue != null && queue.descriptorArea(gpa);
    }

    public boolean queueDriverArea(final long gpa)
    {
        final QueueConfig queue = writableQueue();
        return queue != null && queue.driverArea(gpa);
    }

    public boolean queueDeviceArea(final long gpa)
    {
        final QueueConfig queue = writableQueue();
        return queue != null && queue.deviceArea(gpa);
    }

    public int queueEnable()
    {
        final QueueConfig queue = selectedQueue();
        return queue != null && queue.isEnabled() ? 1 : 0;
    }

    /**
     * queue_enable write. 1 enables the selected queue with the negotiated layout (refused for a bad
     * size or alignment). 0 is only meaningful with RING_RESET, where it resets the queue; without
     * it the write is ignored, as the spec forbids it.
     */
    public boolean queueEnable(final int value)
    {
        if (value == 0)
        {
            return queueReset();
        }
        final QueueConfig queue = writableQueue();
        return queue != null && queue.enable(features.isNegotiated(VirtioFeatures.RING_PACKED));
    }

    /** queue_reset write (RING_RESET): the selected queue returns to its initial state. */
    public boolean queueReset()
    {
        final QueueConfig queue = selectedQueue();
        if (queue == null || !features.isNegotiated(VirtioFeatures.RING_RESET) || !status.has(DeviceStatus.FEATURES_OK))
        {
            return false;
        }
        queue.reset();
        for (int i = 0, n = listeners.size(); i < n; i++)
        {
            listeners.get(i).onQueueReset(queue.index());
        }
        return true;
    }
}
