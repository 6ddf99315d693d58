package dev.braid.virtio.net;

import dev.braid.virtio.memory.GuestMemory;

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
public final class NetHeader
{
    private GuestMemory memory;
    private long gpa;

    public NetHeader wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return this;
    }

    public long gpa()
    {
        return gpa;
    }

    public int flags()
    {
        return memory.getByte(gpa + HDR_FLAGS_OFFSET) & 0xFF;
    }

    public NetHeader flags(final int flags)
    {
        memory.putByte(gpa + HDR_FLAGS_OFFSET, (byte)flags);
        return this;
    }

    public int gsoType()
    {
        return memory.getByte(gpa + HDR_GSO_TYPE_OFFSET) & 0xFF;
    }

    public NetHeader gsoType(final int gsoType)
    {
        memory.putByte(gpa + HDR_GSO_TYPE_OFFSET, (byte)gsoType);
        return this;
    }

    public int hdrLen()
    {
        return memory.getShort(gpa + HDR_HDR_LEN_OFFSET) & 0xFFFF;
    }

    public NetHeader hdrLen(final int hdrLen)
    {
        memory.putShort(gpa + HDR_HDR_LEN_OFFSET, (short)hdrLen);
        return this;
    }

    public int gsoSize()
    {
        return memory.getShort(gpa + HDR_GSO_SIZE_OFFSET) & 0xFFFF;
    }

    public NetHeader gsoSize(final int gsoSize)
    {
        memory.putShort(gpa + HDR_GSO_SIZE_OFFSET, (short)gsoSize);
        return this;
    }

    public int csumStart()
    {
        return memory.getShort(gpa + HDR_CSUM_START_OFFSET) & 0xFFFF;
    }

    public NetHeader csumStart(final int csumStart)
    {
        memory.putShort(gpa + HDR_CSUM_START_OFFSET, (short)csumStart);
        return this;
    }

    public int csumOffset()
    {
        return memory.getShort(gpa + HDR_CSUM_OFFSET_OFFSET) & 0xFFFF;
    }

    public NetHeader csumOffset(final int csumOffset)
    {
        memory.putShort(gpa + HDR_CSUM_OFFSET_OFFSET, (short)csumOffset);
        return this;
    }

    public int numBuffers()
    {
        return memory.getShort(gpa + HDR_NUM_BUFFERS_OFFSET) & 0xFFFF;
    }

    public NetHeader numBuffers(final int numBuffers)
    {
        memory.putShort(gpa + HDR_NUM_BUFFERS_OFFSET, (short)numBuffers);
        return this;
    }

    /** Writes an rx header for a frame that needs nothing from the driver: all zero, given buffers. */
    public NetHeader clear(final int numBuffers)
    {
        memory.putInt(gpa, 0);
        memory.putInt(gpa + 4, 0);
        memory.putShort(gpa + 8, (short)0);
        return numBuffers(numBuffers);
    }
}
