package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestMemory;

/**
 * Flyweight over virtio_scsi_ctrl_tmf's device-readable part (type, subtype, lun, id).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiTmfReq
{
    private GuestMemory memory;
    private long gpa;

    public ScsiTmfReq wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    public long type()
    {
        return memory.getInt(gpa + ScsiDescriptor.TMF_TYPE_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiTmfReq type(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.TMF_TYPE_OFFSET, (int)value);
        return this;
    }

    public long subtype()
    {
        return memory.getInt(gpa + ScsiDescriptor.TMF_SUBTYPE_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiTmfReq subtype(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.TMF_SUBTYPE_OFFSET, (int)value);
        return this;
    }

    /** The LUN field as a little-endian long; see {@link ScsiLun}. */
    public long lun()
    {
        return memory.getLong(gpa + ScsiDescriptor.TMF_LUN_OFFSET);
    }

    public ScsiTmfReq lun(final long value)
    {
        memory.putLong(gpa + ScsiDescriptor.TMF_LUN_OFFSET, value);
        return this;
    }

    /** The tag of the task an ABORT_TASK / QUERY_TASK names. */
    public long id()
    {
        return memory.getLong(gpa + ScsiDescriptor.TMF_ID_OFFSET);
    }

    public ScsiTmfReq id(final long value)
    {
        memory.putLong(gpa + ScsiDescriptor.TMF_ID_OFFSET, value);
        return this;
    }
}
