package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestFlyweight;

/**
 * Flyweight over virtio_scsi_ctrl_an's device-writable part (event_actual, response).
 * The caller guarantees the bytes lie in guest memory (parsers check before wrapping).
 */
public final class ScsiAnResp extends GuestFlyweight<ScsiAnResp>
{
    public long eventActual()
    {
        return u32(ScsiDescriptor.AN_EVENT_ACTUAL_OFFSET);
    }

    public ScsiAnResp eventActual(final long value)
    {
        putU32(ScsiDescriptor.AN_EVENT_ACTUAL_OFFSET, value);
        return this;
    }

    public int response()
    {
        return u8(ScsiDescriptor.AN_RESPONSE_OFFSET);
    }

    public ScsiAnResp response(final int value)
    {
        putU8(ScsiDescriptor.AN_RESPONSE_OFFSET, value);
        return this;
    }
}
