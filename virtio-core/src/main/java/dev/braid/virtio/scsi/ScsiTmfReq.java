package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestFlyweight;

/**
 * Flyweight over virtio_scsi_ctrl_tmf's device-readable part (type, subtype, lun, id).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiTmfReq extends GuestFlyweight<ScsiTmfReq>
{
    public long type()
    {
        return u32(ScsiDescriptor.TMF_TYPE_OFFSET);
    }

    public ScsiTmfReq type(final long value)
    {
        putU32(ScsiDescriptor.TMF_TYPE_OFFSET, value);
        return this;
    }

    public long subtype()
    {
        return u32(ScsiDescriptor.TMF_SUBTYPE_OFFSET);
    }

    public ScsiTmfReq subtype(final long value)
    {
        putU32(ScsiDescriptor.TMF_SUBTYPE_OFFSET, value);
        return this;
    }

    /** The LUN field as a little-endian long; see {@link ScsiLun}. */
    public long lun()
    {
        return u64(ScsiDescriptor.TMF_LUN_OFFSET);
    }

    public ScsiTmfReq lun(final long value)
    {
        putU64(ScsiDescriptor.TMF_LUN_OFFSET, value);
        return this;
    }

    /** The tag of the task an ABORT_TASK / QUERY_TASK names. */
    public long id()
    {
        return u64(ScsiDescriptor.TMF_ID_OFFSET);
    }

    public ScsiTmfReq id(final long value)
    {
        putU64(ScsiDescriptor.TMF_ID_OFFSET, value);
        return this;
    }
}
