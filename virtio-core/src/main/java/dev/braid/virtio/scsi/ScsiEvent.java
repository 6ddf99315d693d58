package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestFlyweight;

/**
 * Flyweight over virtio_scsi_event, written by the device into event-queue buffers.
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiEvent extends GuestFlyweight<ScsiEvent>
{
    /** VIRTIO_SCSI_T_*, possibly with VIRTIO_SCSI_T_EVENTS_MISSED. */
    public long event()
    {
        return u32(ScsiDescriptor.EVENT_EVENT_OFFSET);
    }

    public ScsiEvent event(final long value)
    {
        putU32(ScsiDescriptor.EVENT_EVENT_OFFSET, value);
        return this;
    }

    /** The LUN field as a little-endian long; see {@link ScsiLun}. */
    public long lun()
    {
        return u64(ScsiDescriptor.EVENT_LUN_OFFSET);
    }

    public ScsiEvent lun(final long value)
    {
        putU64(ScsiDescriptor.EVENT_LUN_OFFSET, value);
        return this;
    }

    public long reason()
    {
        return u32(ScsiDescriptor.EVENT_REASON_OFFSET);
    }

    public ScsiEvent reason(final long value)
    {
        putU32(ScsiDescriptor.EVENT_REASON_OFFSET, value);
        return this;
    }
}
