package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestMemory;

/**
 * Flyweight over virtio_scsi_ctrl_tmf's device-writable part (response).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiTmfResp
{
    private GuestMemory memory;
    private long gpa;

    public ScsiTmfResp wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    public int response()
    {
        return memory.getByte(gpa + ScsiDescriptor.TMF_RESPONSE_OFFSET) & 0xFF;
    }

    public ScsiTmfResp response(final int value)
    {
        memory.putByte(gpa + ScsiDescriptor.TMF_RESPONSE_OFFSET, (byte)value);
        return this;
    }
}
