package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestFlyweight;

/**
 * Flyweight over virtio_scsi_ctrl_tmf's device-writable part (response).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiTmfResp extends GuestFlyweight<ScsiTmfResp>
{
    public int response()
    {
        return u8(ScsiDescriptor.TMF_RESPONSE_OFFSET);
    }

    public ScsiTmfResp response(final int value)
    {
        putU8(ScsiDescriptor.TMF_RESPONSE_OFFSET, value);
        return this;
    }
}
