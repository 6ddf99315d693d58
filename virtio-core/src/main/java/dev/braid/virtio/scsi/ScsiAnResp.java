package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestMemory;

/**
 * Flyweight over virtio_scsi_ctrl_an's device-writable part (event_actual, response).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiAnResp
{
    private GuestMemory memory;
    private long gpa;

    public ScsiAnResp wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    public long eventActual()
    {
        return memory.getInt(gpa + ScsiDescriptor.AN_EVENT_ACTUAL_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiAnResp eventActual(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.AN_EVENT_ACTUAL_OFFSET, (int)value);
        return this;
    }

    public int response()
    {
        return memory.getByte(gpa + ScsiDescriptor.AN_RESPONSE_OFFSET) & 0xFF;
    }

    public ScsiAnResp response(final int value)
    {
        memory.putByte(gpa + ScsiDescriptor.AN_RESPONSE_OFFSET, (byte)value);
        return this;
    }
}
