package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestMemory;

/**
 * Flyweight over virtio_scsi_event, written by the device into event-queue buffers.
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiEvent
{
    private GuestMemory memory;
    private long gpa;

    public ScsiEvent wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    /** VIRTIO_SCSI_T_*, possibly with VIRTIO_SCSI_T_EVENTS_MISSED. */
    public long event()
    {
        return memory.getInt(gpa + ScsiDescriptor.EVENT_EVENT_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiEvent event(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.EVENT_EVENT_OFFSET, (int)value);
        return this;
    }

    /** The LUN field as a little-endian long; see {@link ScsiLun}. */
    public long lun()
    {
        return memory.getLong(gpa + ScsiDescriptor.EVENT_LUN_OFFSET);
    }

    public ScsiEvent lun(final long value)
    {
        memory.putLong(gpa + ScsiDescriptor.EVENT_LUN_OFFSET, value);
        return this;
    }

    public long reason()
    {
        return memory.getInt(gpa + ScsiDescriptor.EVENT_REASON_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiEvent reason(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.EVENT_REASON_OFFSET, (int)value);
        return this;
    }
}
