package dev.braid.virtio.scsi;

import dev.braid.virtio.device.ConfigSpace;

/**
 * struct virtio_scsi_config as bytes. The driver may write sense_size and cdb_size; everything else
 * is device-set. Parsers must be reconfigured after such a write (see {@link #onDriverWrite}).
 */
public final class ScsiConfig extends ConfigSpace
{
    private int driverWrites;

    public ScsiConfig()
    {
        super(ScsiDescriptor.CFG_LENGTH);
        driverWritable(ScsiDescriptor.CFG_SENSE_SIZE_OFFSET, 8);
        cdbSize(VirtioScsi.VIRTIO_SCSI_CDB_DEFAULT_SIZE);
        senseSize(VirtioScsi.VIRTIO_SCSI_SENSE_DEFAULT_SIZE);
    }

    protected void onDriverWrite(final int offset, final int width)
    {
        driverWrites++;
    }

    /** Counts driver writes, so a device can tell that sense/cdb sizes may have changed. */
    public int driverWrites()
    {
        return driverWrites;
    }

    /** Request queues (not counting control and event). */
    public long numQueues()
    {
        return u32(ScsiDescriptor.CFG_NUM_QUEUES_OFFSET);
    }

    public ScsiConfig numQueues(final long value)
    {
        u32(ScsiDescriptor.CFG_NUM_QUEUES_OFFSET, value);
        return this;
    }

    public long segMax()
    {
        return u32(ScsiDescriptor.CFG_SEG_MAX_OFFSET);
    }

    public ScsiConfig segMax(final long value)
    {
        u32(ScsiDescriptor.CFG_SEG_MAX_OFFSET, value);
        return this;
    }

    public long maxSectors()
    {
        return u32(ScsiDescriptor.CFG_MAX_SECTORS_OFFSET);
    }

    public ScsiConfig maxSectors(final long value)
    {
        u32(ScsiDescriptor.CFG_MAX_SECTORS_OFFSET, value);
        return this;
    }

    public long cmdPerLun()
    {
        return u32(ScsiDescriptor.CFG_CMD_PER_LUN_OFFSET);
    }

    public ScsiConfig cmdPerLun(final long value)
    {
        u32(ScsiDescriptor.CFG_CMD_PER_LUN_OFFSET, value);
        return this;
    }

    public long eventInfoSize()
    {
        return u32(ScsiDescriptor.CFG_EVENT_INFO_SIZE_OFFSET);
    }

    public ScsiConfig eventInfoSize(final long value)
    {
        u32(ScsiDescriptor.CFG_EVENT_INFO_SIZE_OFFSET, value);
        return this;
    }

    /** Driver-writable. */
    public long senseSize()
    {
        return u32(ScsiDescriptor.CFG_SENSE_SIZE_OFFSET);
    }

    public ScsiConfig senseSize(final long value)
    {
        u32(ScsiDescriptor.CFG_SENSE_SIZE_OFFSET, value);
        return this;
    }

    /** Driver-writable. */
    public long cdbSize()
    {
        return u32(ScsiDescriptor.CFG_CDB_SIZE_OFFSET);
    }

    public ScsiConfig cdbSize(final long value)
    {
        u32(ScsiDescriptor.CFG_CDB_SIZE_OFFSET, value);
        return this;
    }

    public int maxChannel()
    {
        return u16(ScsiDescriptor.CFG_MAX_CHANNEL_OFFSET);
    }

    public ScsiConfig maxChannel(final int value)
    {
        u16(ScsiDescriptor.CFG_MAX_CHANNEL_OFFSET, value);
        return this;
    }

    public int maxTarget()
    {
        return u16(ScsiDescriptor.CFG_MAX_TARGET_OFFSET);
    }

    public ScsiConfig maxTarget(final int value)
    {
        u16(ScsiDescriptor.CFG_MAX_TARGET_OFFSET, value);
        return this;
    }

    public long maxLun()
    {
        return u32(ScsiDescriptor.CFG_MAX_LUN_OFFSET);
    }

    public ScsiConfig maxLun(final long value)
    {
        u32(ScsiDescriptor.CFG_MAX_LUN_OFFSET, value);
        return this;
    }
}
