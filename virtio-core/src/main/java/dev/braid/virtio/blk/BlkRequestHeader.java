package dev.braid.virtio.blk;

import dev.braid.virtio.memory.GuestFlyweight;

import static dev.braid.virtio.blk.BlkDescriptor.REQ_IOPRIO_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.REQ_SECTOR_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.REQ_TYPE_OFFSET;

/**
 * Flyweight over a virtio-blk request header in guest memory. The caller guarantees that the 16
 * bytes lie in guest memory (a parser checks; the accessors throw GuestMemoryException otherwise).
 */
public final class BlkRequestHeader extends GuestFlyweight<BlkRequestHeader>
{
    /** Unsigned 32-bit request type. */
    public long type()
    {
        return u32(REQ_TYPE_OFFSET);
    }

    public BlkRequestHeader type(final long type)
    {
        putU32(REQ_TYPE_OFFSET, type);
        return this;
    }

    /** The "reserved" word, which legacy drivers used as ioprio. */
    public int ioprio()
    {
        return i32(REQ_IOPRIO_OFFSET);
    }

    public BlkRequestHeader ioprio(final int ioprio)
    {
        putU32(REQ_IOPRIO_OFFSET, ioprio);
        return this;
    }

    /** Unsigned 64-bit sector; compare with {@link Long#compareUnsigned}. */
    public long sector()
    {
        return u64(REQ_SECTOR_OFFSET);
    }

    public BlkRequestHeader sector(final long sector)
    {
        putU64(REQ_SECTOR_OFFSET, sector);
        return this;
    }
}
