package dev.braid.virtio.blk;

import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.virtio.blk.BlkDescriptor.DWZ_FLAGS_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.DWZ_NUM_SECTORS_OFFSET;
import static dev.braid.virtio.blk.BlkDescriptor.DWZ_SECTOR_OFFSET;

/** Flyweight over one virtio_blk_discard_write_zeroes segment in guest memory. */
public final class BlkDiscardSegment
{
    private GuestMemory memory;
    private long gpa;

    public BlkDiscardSegment wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    public long sector()
    {
        return memory.getLong(gpa + DWZ_SECTOR_OFFSET);
    }

    public BlkDiscardSegment sector(final long sector)
    {
        memory.putLong(gpa + DWZ_SECTOR_OFFSET, sector);
        return this;
    }

    /** Unsigned 32-bit sector count. */
    public long numSectors()
    {
        return memory.getInt(gpa + DWZ_NUM_SECTORS_OFFSET) & 0xFFFF_FFFFL;
    }

    public BlkDiscardSegment numSectors(final long numSectors)
    {
        memory.putInt(gpa + DWZ_NUM_SECTORS_OFFSET, (int)numSectors);
        return this;
    }

    public int flags()
    {
        return memory.getInt(gpa + DWZ_FLAGS_OFFSET);
    }

    public BlkDiscardSegment flags(final int flags)
    {
        memory.putInt(gpa + DWZ_FLAGS_OFFSET, flags);
        return this;
    }

    public boolean unmap()
    {
        return (flags() & VirtioBlk.VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0;
    }
}
