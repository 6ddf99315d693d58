package dev.braid.virtio.blk;

import dev.braid.virtio.memory.GuestFlyweight;

import static dev.braid.virtio.blk.BlkDescriptor.DWZ_FLAGS_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.DWZ_NUM_SECTORS_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.DWZ_SECTOR_OFFSET;

/** Flyweight over one virtio_blk_discard_write_zeroes segment in guest memory. */
public final class BlkDiscardSegment extends GuestFlyweight<BlkDiscardSegment>
{
    public long sector()
    {
        return u64(DWZ_SECTOR_OFFSET);
    }

    public BlkDiscardSegment sector(final long sector)
    {
        putU64(DWZ_SECTOR_OFFSET, sector);
        return this;
    }

    /** Unsigned 32-bit sector count. */
    public long numSectors()
    {
        return u32(DWZ_NUM_SECTORS_OFFSET);
    }

    public BlkDiscardSegment numSectors(final long numSectors)
    {
        putU32(DWZ_NUM_SECTORS_OFFSET, numSectors);
        return this;
    }

    public int flags()
    {
        return i32(DWZ_FLAGS_OFFSET);
    }

    public BlkDiscardSegment flags(final int flags)
    {
        putU32(DWZ_FLAGS_OFFSET, flags);
        return this;
    }

    public boolean unmap()
    {
        return (flags() & VirtioBlk.VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0;
    }
}
