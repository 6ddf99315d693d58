package dev.braid.virtio.blk;

import dev.braid.virtio.device.ConfigSpace;

/**
 * struct virtio_blk_config as bytes. Everything is device-set except {@code writeback}, which the
 * driver may toggle when CONFIG_WCE is negotiated; unused bytes read as 0.
 */
public final class BlkConfig extends ConfigSpace
{
    public BlkConfig()
    {
        super(BlkDescriptor.CFG_LENGTH);
        driverWritable(BlkDescriptor.CFG_WRITEBACK_OFFSET, 1);
    }

    /** Capacity in 512-byte sectors. */
    public long capacity()
    {
        return u64(BlkDescriptor.CFG_CAPACITY_OFFSET);
    }

    public BlkConfig capacity(final long value)
    {
        u64(BlkDescriptor.CFG_CAPACITY_OFFSET, value);
        return this;
    }

    public long sizeMax()
    {
        return u32(BlkDescriptor.CFG_SIZE_MAX_OFFSET);
    }

    public BlkConfig sizeMax(final long value)
    {
        u32(BlkDescriptor.CFG_SIZE_MAX_OFFSET, value);
        return this;
    }

    public long segMax()
    {
        return u32(BlkDescriptor.CFG_SEG_MAX_OFFSET);
    }

    public BlkConfig segMax(final long value)
    {
        u32(BlkDescriptor.CFG_SEG_MAX_OFFSET, value);
        return this;
    }

    public int geometryCylinders()
    {
        return u16(BlkDescriptor.CFG_GEOMETRY_CYLINDERS_OFFSET);
    }

    public BlkConfig geometryCylinders(final int value)
    {
        u16(BlkDescriptor.CFG_GEOMETRY_CYLINDERS_OFFSET, value);
        return this;
    }

    public int geometryHeads()
    {
        return u8(BlkDescriptor.CFG_GEOMETRY_HEADS_OFFSET);
    }

    public BlkConfig geometryHeads(final int value)
    {
        u8(BlkDescriptor.CFG_GEOMETRY_HEADS_OFFSET, value);
        return this;
    }

    public int geometrySectors()
    {
        return u8(BlkDescriptor.CFG_GEOMETRY_SECTORS_OFFSET);
    }

    public BlkConfig geometrySectors(final int value)
    {
        u8(BlkDescriptor.CFG_GEOMETRY_SECTORS_OFFSET, value);
        return this;
    }

    public long blkSize()
    {
        return u32(BlkDescriptor.CFG_BLK_SIZE_OFFSET);
    }

    public BlkConfig blkSize(final long value)
    {
        u32(BlkDescriptor.CFG_BLK_SIZE_OFFSET, value);
        return this;
    }

    public int physicalBlockExp()
    {
        return u8(BlkDescriptor.CFG_PHYSICAL_BLOCK_EXP_OFFSET);
    }

    public BlkConfig physicalBlockExp(final int value)
    {
        u8(BlkDescriptor.CFG_PHYSICAL_BLOCK_EXP_OFFSET, value);
        return this;
    }

    public int alignmentOffset()
    {
        return u8(BlkDescriptor.CFG_ALIGNMENT_OFFSET_OFFSET);
    }

    public BlkConfig alignmentOffset(final int value)
    {
        u8(BlkDescriptor.CFG_ALIGNMENT_OFFSET_OFFSET, value);
        return this;
    }

    public int minIoSize()
    {
        return u16(BlkDescriptor.CFG_MIN_IO_SIZE_OFFSET);
    }

    public BlkConfig minIoSize(final int value)
    {
        u16(BlkDescriptor.CFG_MIN_IO_SIZE_OFFSET, value);
        return this;
    }

    public long optIoSize()
    {
        return u32(BlkDescriptor.CFG_OPT_IO_SIZE_OFFSET);
    }

    public BlkConfig optIoSize(final long value)
    {
        u32(BlkDescriptor.CFG_OPT_IO_SIZE_OFFSET, value);
        return this;
    }

    /** 1 = writeback cache, 0 = writethrough; driver-writable (CONFIG_WCE). */
    public int writeback()
    {
        return u8(BlkDescriptor.CFG_WRITEBACK_OFFSET);
    }

    public BlkConfig writeback(final int value)
    {
        u8(BlkDescriptor.CFG_WRITEBACK_OFFSET, value);
        return this;
    }

    public int numQueues()
    {
        return u16(BlkDescriptor.CFG_NUM_QUEUES_OFFSET);
    }

    public BlkConfig numQueues(final int value)
    {
        u16(BlkDescriptor.CFG_NUM_QUEUES_OFFSET, value);
        return this;
    }

    public long maxDiscardSectors()
    {
        return u32(BlkDescriptor.CFG_MAX_DISCARD_SECTORS_OFFSET);
    }

    public BlkConfig maxDiscardSectors(final long value)
    {
        u32(BlkDescriptor.CFG_MAX_DISCARD_SECTORS_OFFSET, value);
        return this;
    }

    public long maxDiscardSeg()
    {
        return u32(BlkDescriptor.CFG_MAX_DISCARD_SEG_OFFSET);
    }

    public BlkConfig maxDiscardSeg(final long value)
    {
        u32(BlkDescriptor.CFG_MAX_DISCARD_SEG_OFFSET, value);
        return this;
    }

    public long discardSectorAlignment()
    {
        return u32(BlkDescriptor.CFG_DISCARD_SECTOR_ALIGNMENT_OFFSET);
    }

    public BlkConfig discardSectorAlignment(final long value)
    {
        u32(BlkDescriptor.CFG_DISCARD_SECTOR_ALIGNMENT_OFFSET, value);
        return this;
    }

    public long maxWriteZeroesSectors()
    {
        return u32(BlkDescriptor.CFG_MAX_WRITE_ZEROES_SECTORS_OFFSET);
    }

    public BlkConfig maxWriteZeroesSectors(final long value)
    {
        u32(BlkDescriptor.CFG_MAX_WRITE_ZEROES_SECTORS_OFFSET, value);
        return this;
    }

    public long maxWriteZeroesSeg()
    {
        return u32(BlkDescriptor.CFG_MAX_WRITE_ZEROES_SEG_OFFSET);
    }

    public BlkConfig maxWriteZeroesSeg(final long value)
    {
        u32(BlkDescriptor.CFG_MAX_WRITE_ZEROES_SEG_OFFSET, value);
        return this;
    }

    public int writeZeroesMayUnmap()
    {
        return u8(BlkDescriptor.CFG_WRITE_ZEROES_MAY_UNMAP_OFFSET);
    }

    public BlkConfig writeZeroesMayUnmap(final int value)
    {
        u8(BlkDescriptor.CFG_WRITE_ZEROES_MAY_UNMAP_OFFSET, value);
        return this;
    }

    public long maxSecureEraseSectors()
    {
        return u32(BlkDescriptor.CFG_MAX_SECURE_ERASE_SECTORS_OFFSET);
    }

    public BlkConfig maxSecureEraseSectors(final long value)
    {
        u32(BlkDescriptor.CFG_MAX_SECURE_ERASE_SECTORS_OFFSET, value);
        return this;
    }

    public long maxSecureEraseSeg()
    {
        return u32(BlkDescriptor.CFG_MAX_SECURE_ERASE_SEG_OFFSET);
    }

    public BlkConfig maxSecureEraseSeg(final long value)
    {
        u32(BlkDescriptor.CFG_MAX_SECURE_ERASE_SEG_OFFSET, value);
        return this;
    }

    public long secureEraseSectorAlignment()
    {
        return u32(BlkDescriptor.CFG_SECURE_ERASE_SECTOR_ALIGNMENT_OFFSET);
    }

    public BlkConfig secureEraseSectorAlignment(final long value)
    {
        u32(BlkDescriptor.CFG_SECURE_ERASE_SECTOR_ALIGNMENT_OFFSET, value);
        return this;
    }
}
