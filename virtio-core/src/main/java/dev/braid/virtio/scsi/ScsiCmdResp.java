package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestFlyweight;

/**
 * Flyweight over virtio_scsi_resp_cmd (sense_len, resid, status_qualifier, status, response, then sense_size sense bytes).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiCmdResp extends GuestFlyweight<ScsiCmdResp>
{
    public long senseLen()
    {
        return u32(ScsiDescriptor.RESP_SENSE_LEN_OFFSET);
    }

    public ScsiCmdResp senseLen(final long value)
    {
        putU32(ScsiDescriptor.RESP_SENSE_LEN_OFFSET, value);
        return this;
    }

    /** Bytes of data not transferred. */
    public long resid()
    {
        return u32(ScsiDescriptor.RESP_RESID_OFFSET);
    }

    public ScsiCmdResp resid(final long value)
    {
        putU32(ScsiDescriptor.RESP_RESID_OFFSET, value);
        return this;
    }

    public int statusQualifier()
    {
        return u16(ScsiDescriptor.RESP_STATUS_QUALIFIER_OFFSET);
    }

    public ScsiCmdResp statusQualifier(final int value)
    {
        putU16(ScsiDescriptor.RESP_STATUS_QUALIFIER_OFFSET, value);
        return this;
    }

    /** The SCSI status byte (GOOD, CHECK CONDITION...). */
    public int status()
    {
        return u8(ScsiDescriptor.RESP_STATUS_OFFSET);
    }

    public ScsiCmdResp status(final int value)
    {
        putU8(ScsiDescriptor.RESP_STATUS_OFFSET, value);
        return this;
    }

    /** A VIRTIO_SCSI_S_* transport response. */
    public int response()
    {
        return u8(ScsiDescriptor.RESP_RESPONSE_OFFSET);
    }

    public ScsiCmdResp response(final int value)
    {
        putU8(ScsiDescriptor.RESP_RESPONSE_OFFSET, value);
        return this;
    }

    public int sense(final int index)
    {
        return u8(ScsiDescriptor.RESP_SENSE_OFFSET + index);
    }

    /** Writes {@code length} sense bytes and sets sense_len to match. */
    public ScsiCmdResp putSense(final byte[] src, final int length)
    {
        putBytes(ScsiDescriptor.RESP_SENSE_OFFSET, src, length);
        return senseLen(length);
    }
}
