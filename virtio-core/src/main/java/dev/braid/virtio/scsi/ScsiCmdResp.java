package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestMemory;

/**
 * Flyweight over virtio_scsi_resp_cmd (sense_len, resid, status_qualifier, status, response, then sense_size sense bytes).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiCmdResp
{
    private GuestMemory memory;
    private long gpa;

    public ScsiCmdResp wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    public long senseLen()
    {
        return memory.getInt(gpa + ScsiDescriptor.RESP_SENSE_LEN_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiCmdResp senseLen(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.RESP_SENSE_LEN_OFFSET, (int)value);
        return this;
    }

    /** Bytes of data not transferred. */
    public long resid()
    {
        return memory.getInt(gpa + ScsiDescriptor.RESP_RESID_OFFSET) & 0xFFFF_FFFFL;
    }

    public ScsiCmdResp resid(final long value)
    {
        memory.putInt(gpa + ScsiDescriptor.RESP_RESID_OFFSET, (int)value);
        return this;
    }

    public int statusQualifier()
    {
        return memory.getShort(gpa + ScsiDescriptor.RESP_STATUS_QUALIFIER_OFFSET) & 0xFFFF;
    }

    public ScsiCmdResp statusQualifier(final int value)
    {
        memory.putShort(gpa + ScsiDescriptor.RESP_STATUS_QUALIFIER_OFFSET, (short)value);
        return this;
    }

    /** The SCSI status byte (GOOD, CHECK CONDITION...). */
    public int status()
    {
        return memory.getByte(gpa + ScsiDescriptor.RESP_STATUS_OFFSET) & 0xFF;
    }

    public ScsiCmdResp status(final int value)
    {
        memory.putByte(gpa + ScsiDescriptor.RESP_STATUS_OFFSET, (byte)value);
        return this;
    }

    /** A VIRTIO_SCSI_S_* transport response. */
    public int response()
    {
        return memory.getByte(gpa + ScsiDescriptor.RESP_RESPONSE_OFFSET) & 0xFF;
    }

    public ScsiCmdResp response(final int value)
    {
        memory.putByte(gpa + ScsiDescriptor.RESP_RESPONSE_OFFSET, (byte)value);
        return this;
    }

    public int sense(final int index)
    {
        return memory.getByte(gpa + ScsiDescriptor.RESP_SENSE_OFFSET + index) & 0xFF;
    }

    /** Writes {@code length} sense bytes and sets sense_len to match. */
    public ScsiCmdResp putSense(final byte[] src, final int length)
    {
        memory.putBytes(gpa + ScsiDescriptor.RESP_SENSE_OFFSET, src, 0, length);
        return senseLen(length);
    }
}
