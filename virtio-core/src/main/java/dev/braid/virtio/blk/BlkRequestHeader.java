package dev.braid.virtio.blk;

import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.virtio.blk.BlkDescriptor.REQ_IOPRIO_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.REQ_SECTOR_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.REQ_TYPE_OFFSET;

/**
 * Flyweight over a virtio-blk request header in guest memory. The caller guarantees that the 16
 * bytes lie in guest memory (a parser checks; the accessors throw GuestMemoryException otherwise).
 */
public final class BlkRequestHeader
{
    private GuestMemory memory;
    private long gpa;

    public BlkRequestHeader wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    /** Unsigned 32-bit request type. */
    public long type()
    {
        return memory.getInt(gpa + REQ_TYPE_OFFSET) & 0xFFFF_FFFFL;
    }

    public BlkRequestHeader type(final long type)
    {
        memory.putInt(gpa + REQ_TYPE_OFFSET, (int)type);
        return this;
    }

    /** The "reserved" word, which legacy drivers used as ioprio. */
    public int ioprio()
    {
        return memory.getInt(gpa + REQ_IOPRIO_OFFSET);
    }

    public BlkRequestHeader ioprio(final int ioprio)
    {
        memory.putInt(gpa + REQ_IOPRIO_OFFSET, ioprio);
        return this;
    }

    /** Unsigned 64-bit sector; compare with {@link Long#compareUnsigned}. */
    public long sector()
    {
        return memory.getLong(gpa + REQ_SECTOR_OFFSET);
    }

    public BlkRequestHeader sector(final long sector)
    {
        memory.putLong(gpa + REQ_SECTOR_OFFSET, sector);
        return this;
    }
}
