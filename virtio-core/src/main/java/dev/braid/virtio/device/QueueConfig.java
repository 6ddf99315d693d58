package dev.braid.virtio.device;

/**
 * One virtqueue's configuration as the transport programs it (virtio-pci common config: queue_size,
 * queue_desc, queue_driver, queue_device, queue_enable). Raw values only: creating the split or
 * packed queue object from them is the device's job once the queue is enabled.
 *
 * <p>Writes after enable are ignored (the spec forbids them), except through {@link #reset()}.
 */
public final class QueueConfig
{
    private final int index;
    private final int maxSize;
    private int size;
    private boolean enabled;
    private long descriptorArea;
    private long driverArea;
    private long deviceArea;
    private boolean packed;
    private int msixVector = NO_VECTOR;

    /** virtio-pci's VIRTIO_MSI_NO_VECTOR. */
    public static final int NO_VECTOR = 0xFFFF;

    public QueueConfig(final int index, final int maxSize)
    {
        if (maxSize < 1 || maxSize > 32768)
        {
            throw new IllegalArgumentException("queue max size must be 1..32768: " + maxSize);
        }
        this.index = index;
        this.maxSize = maxSize;
        this.size = maxSize;
    }

    public int index()
    {
        return index;
    }

    /** The largest size the device accepts (what queue_size reads before the driver writes it). */
    public int maxSize()
    {
        return maxSize;
    }

    public int size()
    {
        return size;
    }

    public boolean isEnabled()
    {
        return enabled;
    }

    /** Split: the descriptor table; packed: the descriptor ring. */
    public long descriptorArea()
    {
        return descriptorArea;
    }

    /** Split: the available ring; packed: the driver event suppression structure. */
    public long driverArea()
    {
        return driverArea;
    }

    /** Split: the used ring; packed: the device event suppression structure. */
    public long deviceArea()
    {
        return deviceArea;
    }

    /** Ring layout, fixed when the queue is enabled from the negotiated RING_PACKED bit. */
    public boolean isPacked()
    {
        return packed;
    }

    public int msixVector()
    {
        return msixVector;
    }

    public boolean size(final int size)
    {
        if (enabled)
        {
            return false;
        }
        this.size = size;
        return true;
    }

    public boolean descriptorArea(final long gpa)
    {
        if (enabled)
        {
            return false;
        }
        descriptorArea = gpa;
        return true;
    }

    public boolean driverArea(final long gpa)
    {
        if (enabled)
        {
            return false;
        }
        driverArea = gpa;
        return true;
    }

    public boolean deviceArea(final long gpa)
    {
        if (enabled)
        {
            return false;
        }
        deviceArea = gpa;
        return true;
    }

    public void msixVector(final int vector)
    {
        msixVector = vector & 0xFFFF;
    }

    /**
     * Whether {@code size} suits the layout: 1..maxSize, and a power of two for split rings (the
     * index arithmetic relies on it; packed rings take any size).
     */
    public static boolean isValidSize(final int size, final int maxSize, final boolean packed)
    {
        if (size < 1 || size > maxSize)
        {
            return false;
        }
        return packed || (size & (size - 1)) == 0;
    }

    /**
     * The driver writes queue_enable = 1. Refused (returns false, stays disabled) for a bad size or
     * an unaligned area: split rings need 16/2/4-byte alignment, packed ones 16/4/4.
     */
    public boolean enable(final boolean packedLayout)
    {
        if (enabled)
        {
            return true;
        }
        if (!isValidSize(size, maxSize, packedLayout))
        {
            return false;
        }
        final long driverAlign = packedLayout ? 4 : 2;
        if ((descriptorArea & 15) != 0 || (driverArea & (driverAlign - 1)) != 0 || (deviceArea & 3) != 0)
        {
            return false;
        }
        packed = packedLayout;
        enabled = true;
        return true;
    }

    /** Back to the state after device reset: disabled, max size, addresses 0, no vector. */
    public void reset()
    {
        size = maxSize;
        enabled = false;
        descriptorArea = 0;
        driverArea = 0;
        deviceArea = 0;
        packed = false;
        msixVector = NO_VECTOR;
    }

    public String toString()
    {
        return "QueueConfig{index=" + index + ", size=" + size + "/" + maxSize + ", enabled=" + enabled +
            ", packed=" + packed + ", desc=0x" + Long.toHexString(descriptorArea) +
            ", driver=0x" + Long.toHexString(driverArea) + ", device=0x" + Long.toHexString(deviceArea) + "}";
    }
}
