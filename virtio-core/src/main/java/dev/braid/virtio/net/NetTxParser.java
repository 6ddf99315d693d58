package dev.braid.virtio.net;

import dev.braid.virtio.device.ChainBytes;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static dev.braid.virtio.net.NetDescriptor.HDR_CSUM_OFFSET_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_CSUM_START_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_FLAGS_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_GSO_SIZE_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_GSO_TYPE_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_HDR_LEN_OFFSET;
import static dev.braid.virtio.net.NetDescriptor.HDR_LENGTH;

/**
 * Validates a tx chain: a 12-byte virtio_net_hdr_v1 at the start of the readable bytes (it may be
 * split across segments, or share a segment with the frame), then the frame. A tx chain that fails
 * is dropped: the device completes it with used length 0 and sends nothing, as a NIC drops a bad
 * frame. Offloads the driver asks for must have been negotiated.
 *
 * <p>One parser per queue thread; allocation-free.
 */
public final class NetTxParser
{
    public static final int TX_OK = 0;
    /** The chain has device-writable segments; tx buffers are read-only. */
    public static final int TX_BAD_LAYOUT = 1;
    /** Fewer than 12 readable bytes, or the header is not in guest memory. */
    public static final int TX_SHORT_HEADER = 2;
    /** Shorter than an Ethernet header. */
    public static final int TX_FRAME_TOO_SHORT = 3;
    /** Longer than MTU + link headers (or the GSO limit). */
    public static final int TX_FRAME_TOO_LONG = 4;
    /** Unknown or unnegotiated GSO type, or a GSO frame with gso_size 0. */
    public static final int TX_BAD_GSO = 5;
    /** NEEDS_CSUM without CSUM negotiated, or a checksum field outside the frame. */
    public static final int TX_BAD_CSUM = 6;

    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[HDR_LENGTH]);
    private int mtu = VirtioNet.DEFAULT_MTU;
    private long features;

    /** Takes the MTU (when offered) and the negotiated offloads. */
    public NetTxParser configure(final NetConfig config, final long negotiatedFeatures)
    {
        features = negotiatedFeatures;
        mtu = VirtioFeatures.has(negotiatedFeatures, VirtioNet.VIRTIO_NET_F_MTU) && config.mtu() > 0 ?
            config.mtu() : VirtioNet.DEFAULT_MTU;
        return this;
    }

    public NetTxParser mtu(final int mtu)
    {
        this.mtu = mtu;
        return this;
    }

    public NetTxParser features(final long negotiatedFeatures)
    {
        features = negotiatedFeatures;
        return this;
    }

    public int mtu()
    {
        return mtu;
    }

    /** Largest non-GSO frame: MTU plus an Ethernet header and one VLAN tag. */
    public int maxFrameLength()
    {
        return mtu + VirtioNet.ETH_HLEN + VirtioNet.VLAN_HLEN;
    }

    public int parse(final GuestMemory memory, final DescriptorChain chain, final NetTxRequest out)
    {
        out.reset(chain.id());
        if (chain.writableCount() != 0)
        {
            return out.status(TX_BAD_LAYOUT);
        }
        if (chain.readableBytes() < HDR_LENGTH || !ChainBytes.copyReadable(memory, chain, 0, scratch, 0, HDR_LENGTH))
        {
            return out.status(TX_SHORT_HEADER);
        }
        final int flags = scratch.getByte(HDR_FLAGS_OFFSET) & 0xFF;
        final int gsoType = scratch.getByte(HDR_GSO_TYPE_OFFSET) & 0xFF;
        final int gsoSize = scratch.getShort(HDR_GSO_SIZE_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        final int csumStart = scratch.getShort(HDR_CSUM_START_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        final int csumOffset = scratch.getShort(HDR_CSUM_OFFSET_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        out.header(flags, gsoType, scratch.getShort(HDR_HDR_LEN_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF,
            gsoSize, csumStart, csumOffset);

        final long frameLength = chain.readableBytes() - HDR_LENGTH;
        if (frameLength < VirtioNet.ETH_HLEN)
        {
            return out.status(TX_FRAME_TOO_SHORT);
        }
        final int base = gsoType & ~VirtioNet.VIRTIO_NET_HDR_GSO_ECN;
        if (base == VirtioNet.VIRTIO_NET_HDR_GSO_NONE)
        {
            if (gsoType != VirtioNet.VIRTIO_NET_HDR_GSO_NONE)
            {
                return out.status(TX_BAD_GSO);
            }
            if (frameLength > maxFrameLength())
            {
                return out.status(TX_FRAME_TOO_LONG);
            }
        }
        else
        {
            if (!gsoAllowed(base) || gsoSize == 0 ||
                ((gsoType & VirtioNet.VIRTIO_NET_HDR_GSO_ECN) != 0 && !has(VirtioNet.VIRTIO_NET_F_HOST_ECN)))
            {
                return out.status(TX_BAD_GSO);
            }
            if (frameLength > VirtioNet.MAX_GSO_FRAME)
            {
                return out.status(TX_FRAME_TOO_LONG);
            }
        }
        if ((flags & VirtioNet.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0 &&
            (!has(VirtioNet.VIRTIO_NET_F_CSUM) || (long)csumStart + csumOffset + 2 > frameLength))
        {
            return out.status(TX_BAD_CSUM);
        }
        final long start = ChainBytes.locateReadable(chain, HDR_LENGTH);
        out.frame(ChainBytes.segment(start), ChainBytes.offset(start), frameLength);
        return out.status(TX_OK);
    }

    private boolean has(final int feature)
    {
        return VirtioFeatures.has(features, feature);
    }

    private boolean gsoAllowed(final int base)
    {
        switch (base)
        {
            case VirtioNet.VIRTIO_NET_HDR_GSO_TCPV4: return has(VirtioNet.VIRTIO_NET_F_HOST_TSO4);
            case VirtioNet.VIRTIO_NET_HDR_GSO_TCPV6: return has(VirtioNet.VIRTIO_NET_F_HOST_TSO6);
            case VirtioNet.VIRTIO_NET_HDR_GSO_UDP: return has(VirtioNet.VIRTIO_NET_F_HOST_UFO);
            case VirtioNet.VIRTIO_NET_HDR_GSO_UDP_L4: return has(VirtioNet.VIRTIO_NET_F_HOST_USO);
            default: return false;
        }
    }

    public static boolean isValidStatus(final int status)
    {
        return status >= TX_OK && status <= TX_BAD_CSUM;
    }
}
