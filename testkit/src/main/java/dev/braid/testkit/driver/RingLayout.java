package dev.braid.testkit.driver;

import static dev.braid.testkit.driver.DriverRingDescriptor.DESC_SIZE;
import static dev.braid.testkit.driver.DriverRingDescriptor.EVENT_SIZE;
import static dev.braid.testkit.driver.DriverRingDescriptor.MAX_QUEUE_SIZE;
import static dev.braid.testkit.driver.DriverRingDescriptor.PACKED_DESC_ALIGN;
import static dev.braid.testkit.driver.DriverRingDescriptor.PACKED_EVENT_ALIGN;
import static dev.braid.testkit.driver.DriverRingDescriptor.SPLIT_AVAIL_ALIGN;
import static dev.braid.testkit.driver.DriverRingDescriptor.SPLIT_DESC_ALIGN;
import static dev.braid.testkit.driver.DriverRingDescriptor.SPLIT_USED_ALIGN;

/**
 * Where one virtqueue lives in guest memory: the three areas the transport hands to the device
 * (descriptor area, driver area, device area) plus the driver's private indirect tables, one
 * table of {@link #maxIndirect()} descriptors per buffer id.
 *
 * <p>For a split ring the driver area is the available ring and the device area the used ring;
 * for a packed ring they are the driver and device event suppression structures.
 */
public final class RingLayout
{
    private final boolean packed;
    private final int queueSize;
    private final long descGpa;
    private final long driverAreaGpa;
    private final long deviceAreaGpa;
    private final long indirectGpa;
    private final int maxIndirect;
    private final long endGpa;

    private RingLayout(
        final boolean packed,
        final int queueSize,
        final long descGpa,
        final long driverAreaGpa,
        final long deviceAreaGpa,
        final long indirectGpa,
        final int maxIndirect)
    {
        checkSize(packed, queueSize);
        if (maxIndirect < 0 || maxIndirect > MAX_QUEUE_SIZE)
        {
            throw new IllegalArgumentException("maxIndirect must be in [0, 32768]: " + maxIndirect);
        }
        final int descAlign = packed ? PACKED_DESC_ALIGN : SPLIT_DESC_ALIGN;
        final int driverAlign = packed ? PACKED_EVENT_ALIGN : SPLIT_AVAIL_ALIGN;
        final int deviceAlign = packed ? PACKED_EVENT_ALIGN : SPLIT_USED_ALIGN;
        checkAligned("descriptor area", descGpa, descAlign);
        checkAligned("driver area", driverAreaGpa, driverAlign);
        checkAligned("device area", deviceAreaGpa, deviceAlign);
        if (maxIndirect > 0)
        {
            checkAligned("indirect tables", indirectGpa, DESC_SIZE);
        }
        this.packed = packed;
        this.queueSize = queueSize;
        this.descGpa = descGpa;
        this.driverAreaGpa = driverAreaGpa;
        this.deviceAreaGpa = deviceAreaGpa;
        this.indirectGpa = maxIndirect > 0 ? indirectGpa : 0;
        this.maxIndirect = maxIndirect;

        final long[] starts = { descGpa, driverAreaGpa, deviceAreaGpa, this.indirectGpa };
        final long[] lengths = { descriptorAreaLength(), driverAreaLength(), deviceAreaLength(), indirectAreaLength() };
        long end = 0;
        for (int i = 0; i < starts.length; i++)
        {
            if (lengths[i] == 0)
            {
                continue;
            }
            if (starts[i] < 0 || starts[i] + lengths[i] < 0)
            {
                throw new IllegalArgumentException("ring area outside the 63-bit guest-physical space");
            }
            for (int j = 0; j < i; j++)
            {
                if (lengths[j] != 0 && starts[i] < starts[j] + lengths[j] && starts[j] < starts[i] + lengths[i])
                {
                    throw new IllegalArgumentException("ring areas overlap: " + i + " and " + j);
                }
            }
            end = Math.max(end, starts[i] + lengths[i]);
        }
        this.endGpa = end;
    }

    /**
     * A split ring packed tightly from {@code baseGpa} up: descriptor table, available ring, used
     * ring, then the indirect tables, each at its required alignment.
     */
    public static RingLayout split(final long baseGpa, final int queueSize, final int maxIndirect)
    {
        checkSize(false, queueSize);
        final long desc = alignUp(baseGpa, SPLIT_DESC_ALIGN);
        final long avail = alignUp(desc + (long)DESC_SIZE * queueSize, SPLIT_AVAIL_ALIGN);
        final long used = alignUp(avail + DriverRingDescriptor.splitAvailSize(queueSize), SPLIT_USED_ALIGN);
        final long indirect = alignUp(used + DriverRingDescriptor.splitUsedSize(queueSize), DESC_SIZE);
        return new RingLayout(false, queueSize, desc, avail, used, indirect, maxIndirect);
    }

    /** A split ring at explicit addresses, which must be aligned as the spec requires. */
    public static RingLayout split(
        final int queueSize,
        final long descGpa,
        final long availGpa,
        final long usedGpa,
        final long indirectGpa,
        final int maxIndirect)
    {
        return new RingLayout(false, queueSize, descGpa, availGpa, usedGpa, indirectGpa, maxIndirect);
    }

    /**
     * A packed ring packed tightly from {@code baseGpa} up: descriptor ring, driver event
     * suppression, device event suppression, then the indirect tables.
     */
    public static RingLayout packed(final long baseGpa, final int queueSize, final int maxIndirect)
    {
        checkSize(true, queueSize);
        final long desc = alignUp(baseGpa, PACKED_DESC_ALIGN);
        final long driverEvent = alignUp(desc + (long)DESC_SIZE * queueSize, PACKED_EVENT_ALIGN);
        final long deviceEvent = driverEvent + EVENT_SIZE;
        final long indirect = alignUp(deviceEvent + EVENT_SIZE, DESC_SIZE);
        return new RingLayout(true, queueSize, desc, driverEvent, deviceEvent, indirect, maxIndirect);
    }

    /** A packed ring at explicit addresses, which must be aligned as the spec requires. */
    public static RingLayout packed(
        final int queueSize,
        final long descGpa,
        final long driverEventGpa,
        final long deviceEventGpa,
        final long indirectGpa,
        final int maxIndirect)
    {
        return new RingLayout(true, queueSize, descGpa, driverEventGpa, deviceEventGpa, indirectGpa, maxIndirect);
    }

    public static long alignUp(final long value, final int alignment)
    {
        return (value + alignment - 1) & -(long)alignment;
    }

    public boolean packed()
    {
        return packed;
    }

    public int queueSize()
    {
        return queueSize;
    }

    /** Descriptor table (split) or descriptor ring (packed). */
    public long descGpa()
    {
        return descGpa;
    }

    /** Available ring (split) or driver event suppression (packed). */
    public long driverAreaGpa()
    {
        return driverAreaGpa;
    }

    /** Used ring (split) or device event suppression (packed). */
    public long deviceAreaGpa()
    {
        return deviceAreaGpa;
    }

    /** Split only: the available ring. */
    public long availGpa()
    {
        requireSplit();
        return driverAreaGpa;
    }

    /** Split only: the used ring. */
    public long usedGpa()
    {
        requireSplit();
        return deviceAreaGpa;
    }

    /** Packed only: the driver event suppression structure (written by the driver). */
    public long driverEventGpa()
    {
        requirePacked();
        return driverAreaGpa;
    }

    /** Packed only: the device event suppression structure (written by the device). */
    public long deviceEventGpa()
    {
        requirePacked();
        return deviceAreaGpa;
    }

    /** First indirect table, or 0 when {@link #maxIndirect()} is 0. */
    public long indirectGpa()
    {
        return indirectGpa;
    }

    /** Descriptors per indirect table; 0 means the queue cannot post indirect chains. */
    public int maxIndirect()
    {
        return maxIndirect;
    }

    /** The indirect table reserved for buffer id (split: head index) {@code id}. */
    public long indirectTableGpa(final int id)
    {
        return indirectGpa + (long)id * maxIndirect * DESC_SIZE;
    }

    public long descriptorAreaLength()
    {
        return (long)DESC_SIZE * queueSize;
    }

    public long driverAreaLength()
    {
        return packed ? EVENT_SIZE : DriverRingDescriptor.splitAvailSize(queueSize);
    }

    public long deviceAreaLength()
    {
        return packed ? EVENT_SIZE : DriverRingDescriptor.splitUsedSize(queueSize);
    }

    public long indirectAreaLength()
    {
        return (long)queueSize * maxIndirect * DESC_SIZE;
    }

    /** First guest-physical address past every area of this layout: where buffers may start. */
    public long endGpa()
    {
        return endGpa;
    }

    private void requireSplit()
    {
        if (packed)
        {
            throw new IllegalStateException("not a split ring");
        }
    }

    private void requirePacked()
    {
        if (!packed)
        {
            throw new IllegalStateException("not a packed ring");
        }
    }

    private static void checkSize(final boolean packed, final int queueSize)
    {
        if (queueSize < 1 || queueSize > MAX_QUEUE_SIZE)
        {
            throw new IllegalArgumentException("queue size must be in [1, 32768]: " + queueSize);
        }
        // Split sizes are powers of two (2.7); packed sizes need not be (2.8).
        if (!packed && (queueSize & (queueSize - 1)) != 0)
        {
            throw new IllegalArgumentException("split queue size must be a power of two: " + queueSize);
        }
    }

    private static void checkAligned(final String what, final long gpa, final int alignment)
    {
        if ((gpa & (alignment - 1)) != 0)
        {
            throw new IllegalArgumentException(
                what + " at 0x" + Long.toHexString(gpa) + " is not " + alignment + "-byte aligned");
        }
    }

    public String toString()
    {
        return "RingLayout{" + (packed ? "packed" : "split") + ", size=" + queueSize +
            ", desc=0x" + Long.toHexString(descGpa) +
            ", driver=0x" + Long.toHexString(driverAreaGpa) +
            ", device=0x" + Long.toHexString(deviceAreaGpa) +
            ", indirect=0x" + Long.toHexString(indirectGpa) + "x" + maxIndirect + '}';
    }
}
