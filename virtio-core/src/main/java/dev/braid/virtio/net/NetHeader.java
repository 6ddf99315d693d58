package dev.braid.virtio.net;

import dev.braid.virtio.memory.GuestFlyweight;

import static dev.braid.virtio.net.NetDescriptor.HDR_CSUM_OFFSET_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_CSUM_START_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_FLAGS_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_GSO_SIZE_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_GSO_TYPE_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_HDR_LEN_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_NUM_BUFFERS_OFFSET;

/**
 * Flyweight over a virtio_net_hdr_v1 in guest memory (12 bytes). Used to read a tx header and to
 * write an rx one; the caller guarantees the bytes lie in guest memory.
 */
public final class NetHeader extends GuestFlyweight<NetHeader>
{
    public int flags()
    {
        return u8(HDR_FLAGS_OFFSET);
    }

    public NetHeader flags(final int flags)
    {
        putU8(HDR_FLAGS_OFFSET, flags);
        return this;
    }

    public int gsoType()
    {
        return u8(HDR_GSO_TYPE_OFFSET);
    }

    public NetHeader gsoType(final int gsoType)
    {
        putU8(HDR_GSO_TYPE_OFFSET, gsoType);
        return this;
    }

    public int hdrLen()
    {
        return u16(HDR_HDR_LEN_OFFSET);
    }

    public NetHeader hdrLen(final int hdrLen)
    {
        putU16(HDR_HDR_LEN_OFFSET, hdrLen);
        return this;
    }

    public int gsoSize()
    {
        return u16(HDR_GSO_SIZE_OFFSET);
    }

    public NetHeader gsoSize(final int gsoSize)
    {
        putU16(HDR_GSO_SIZE_OFFSET, gsoSize);
        return this;
    }

    public int csumStart()
    {
        return u16(HDR_CSUM_START_OFFSET);
    }

    public NetHeader csumStart(final int csumStart)
    {
        putU16(HDR_CSUM_START_OFFSET, csumStart);
        return this;
    }

    public int csumOffset()
    {
        return u16(HDR_CSUM_OFFSET_OFFSET);
    }

    public NetHeader csumOffset(final int csumOffset)
    {
        putU16(HDR_CSUM_OFFSET_OFFSET, csumOffset);
        return this;
    }

    public int numBuffers()
    {
        return u16(HDR_NUM_BUFFERS_OFFSET);
    }

    public NetHeader numBuffers(final int numBuffers)
    {
        putU16(HDR_NUM_BUFFERS_OFFSET, numBuffers);
        return this;
    }

    /** Writes an rx header for a frame that needs nothing from the driver: all zero, given buffers. */
    public NetHeader clear(final int numBuffers)
    {
        putU32(0, 0);
        putU32(4, 0);
        putU16(8, 0);
        return numBuffers(numBuffers);
    }
}
