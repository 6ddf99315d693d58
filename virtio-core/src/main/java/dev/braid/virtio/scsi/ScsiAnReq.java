package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestMemory;

/**
 * Flyweight over virtio_scsi_ctrl_an's device-readable part (type, lun, event_requested).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiAnReq
{
    private GuestMemory memory;
    private long gpa;

    public ScsiAnReq wrap(final GuestMemory memory, final long gpa)
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
        return memory.getInt(gpa + ScsiDescriptor.AN_TYPE_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiAnReq type(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.AN_TYPE_OFFSET, (int)value);
        return this;
    }

    /** The LUN field as a little-endian long; see {@link ScsiLun}. */
    public long lun()
    {
        return memory.getLong(gpa + ScsiDescriptor.AN_LUN_OFFSET);
    }

    public ScsiAnReq lun(final long value)
    {
        memory.putLong(gpa + ScsiDescriptor.AN_LUN_OFFSET, value);
        return this;
    }

    public long eventRequested()
    {
        return memory.getInt(gpa + ScsiDescriptor.AN_EVENT_REQUESTED_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiAnReq eventRequested(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.AN_EVENT_REQUESTED_OFFSET, (int)value);
        return this;
    }
}
