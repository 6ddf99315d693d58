package dev.braid.virtio.memory;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * One contiguous piece of guest-physical memory, backed by off-heap bytes.
 *
 * <p>A region is at most {@link #MAX_REGION_LENGTH} bytes because Agrona buffers are int-indexed;
 * {@link GuestMemory.Builder} cuts a larger mapping into adjacent regions, and {@link GuestMemory}
 * lets a buffer span adjacent regions.
 */
public final class GuestMemoryRegion
{
    /** Largest region: 1 GiB keeps every in-region offset and length in a positive int. */
    public static final long MAX_REGION_LENGTH = 1L << 30;

    /** Marks a region for which the VMM gave no virtual address of its own. */
    public static final long NO_HOST_ADDRESS = -1L;

    private final long guestPhysicalBase;
    private final long length;
    private final long hostVirtualAddress;
    private final UnsafeBuffer buffer;
    private final Object keepAlive;

    GuestMemoryRegion(
        final long guestPhysicalBase,
        final UnsafeBuffer buffer,
        final long hostVirtualAddress,
        final Object keepAlive)
    {
        this.guestPhysicalBase = guestPhysicalBase;
        this.length = buffer.capacity();
        this.hostVirtualAddress = hostVirtualAddress;
        this.buffer = buffer;
        this.keepAlive = keepAlive;
    }

    public long guestPhysicalBase()
    {
        return guestPhysicalBase;
    }

    /** First guest-physical address past this region. */
    public long guestPhysicalEnd()
    {
        return guestPhysicalBase + length;
    }

    public long length()
    {
        return length;
    }

    /** The VMM's virtual address of the first byte, or {@link #NO_HOST_ADDRESS}. */
    public long hostVirtualAddress()
    {
        return hostVirtualAddress;
    }

    /** The region's bytes; index 0 is {@link #guestPhysicalBase()}. */
    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    /** Whatever object must stay reachable for the backing memory to stay mapped. */
    Object keepAlive()
    {
        return keepAlive;
    }

    public String toString()
    {
        return "GuestMemoryRegion{gpa=0x" + Long.toHexString(guestPhysicalBase) +
            ", length=" + length +
            (hostVirtualAddress == NO_HOST_ADDRESS ? "" : ", hva=0x" + Long.toHexString(hostVirtualAddress)) + '}';
    }
}
