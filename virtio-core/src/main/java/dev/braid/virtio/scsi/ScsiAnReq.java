package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestFlyweight;

/**
 * Flyweight over virtio_scsi_ctrl_an's device-readable part (type, lun, event_requested).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiAnReq extends GuestFlyweight<ScsiAnReq>
{
    public long type()
    {
        return u32(ScsiDescriptor.AN_TYPE_OFFSET);
    }

    public ScsiAnReq type(final long value)
    {
        putU32(ScsiDescriptor.AN_TYPE_OFFSET, value);
        return this;
    }

    /** The LUN field as a little-endian long; see {@link ScsiLun}. */
    public long lun()
    {
        return u64(ScsiDescriptor.AN_LUN_OFFSET);
    }

    public ScsiAnReq lun(final long value)
    {
        putU64(ScsiDescriptor.AN_LUN_OFFSET, value);
        return this;
    }

    public long eventRequested()
    {
        return u32(ScsiDescriptor.AN_EVENT_REQUESTED_OFFSET);
    }

    public ScsiAnReq eventRequested(final long value)
    {
        putU32(ScsiDescriptor.AN_EVENT_REQUESTED_OFFSET, value);
        return this;
    }
}
