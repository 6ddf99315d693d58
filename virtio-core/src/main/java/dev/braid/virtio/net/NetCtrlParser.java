package dev.braid.virtio.net;

import dev.braid.virtio.device.ChainBytes;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static dev.braid.virtio.net.NetDescriptor.CTRL_HEADER_LENGTH;
import static dev.braid.virtio.net.VirtioNet.*;

/**
 * Validates a control-queue command: class and command bytes, the command-specific payload, and
 * the ack byte (the last writable byte). A command is accepted only when its feature was
 * negotiated and its payload has exactly the spec's size and sane values; anything else is acked
 * VIRTIO_NET_ERR. A chain without a writable byte is completed with used length 0.
 *
 * <p>RSS and hash configuration are not supported and are refused with ERR.
 */
public final class NetCtrlParser
{
    /** Guest offloads a driver may switch with GUEST_OFFLOADS_SET, when negotiated. */
    private static final long GUEST_OFFLOAD_BITS = VirtioFeatures.mask(
        VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN,
        VIRTIO_NET_F_GUEST_UFO);

    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[8]);
    private long features;
    private int maxVirtqueuePairs = 1;

    public NetCtrlParser configure(final NetConfig config, final long negotiatedFeatures)
    {
        features = negotiatedFeatures;
        maxVirtqueuePairs = Math.max(1, config.maxVirtqueuePairs());
        return this;
    }

    public NetCtrlParser features(final long negotiatedFeatures)
    {
        features = negotiatedFeatures;
        return this;
    }

    public NetCtrlParser maxVirtqueuePairs(final int pairs)
    {
        maxVirtqueuePairs = pairs;
        return this;
    }

    /** Returns the ack to give (VIRTIO_NET_OK means execute); {@link NetCtrlRequest#outcome()} says how. */
    public int parse(final GuestMemory memory, final DescriptorChain chain, final NetCtrlRequest out)
    {
        out.reset(chain.id());
        final long ackGpa = ChainBytes.lastWritableByte(memory, chain);
        if (ackGpa < 0)
        {
            return out.completeNoAck();
        }
        out.ackGpa(ackGpa);
        if (chain.readableBytes() < CTRL_HEADER_LENGTH ||
            !ChainBytes.copyReadable(memory, chain, 0, scratch, 0, CTRL_HEADER_LENGTH))
        {
            return out.error();
        }
        final int commandClass = scratch.getByte(0) & 0xFF;
        final int command = scratch.getByte(1) & 0xFF;
        out.command(commandClass, command);
        final long payloadLength = chain.readableBytes() - CTRL_HEADER_LENGTH;
        if (payloadLength > 0)
        {
            final long start = ChainBytes.locateReadable(chain, CTRL_HEADER_LENGTH);
            out.payload(ChainBytes.segment(start), ChainBytes.offset(start), payloadLength);
        }

        switch (commandClass)
        {
            case VIRTIO_NET_CTRL_RX:
                return parseRx(memory, chain, command, payloadLength, out);
            case VIRTIO_NET_CTRL_MAC:
                return parseMac(memory, chain, command, payloadLength, out);
            case VIRTIO_NET_CTRL_VLAN:
                if (!has(VIRTIO_NET_F_CTRL_VLAN) || command > VIRTIO_NET_CTRL_VLAN_DEL ||
                    !readPayload(memory, chain, payloadLength, NetDescriptor.VLAN_ID_LENGTH))
                {
                    return out.error();
                }
                final int vid = scratch.getShort(0, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
                return vid < 4096 ? out.submit(vid) : out.error();
            case VIRTIO_NET_CTRL_ANNOUNCE:
                if (!has(VIRTIO_NET_F_GUEST_ANNOUNCE) || command != VIRTIO_NET_CTRL_ANNOUNCE_ACK || payloadLength != 0)
                {
                    return out.error();
                }
                return out.submit(0);
            case VIRTIO_NET_CTRL_MQ:
                if (!has(VIRTIO_NET_F_MQ) || command != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
                    !readPayload(memory, chain, payloadLength, NetDescriptor.MQ_PAIRS_LENGTH))
                {
                    return out.error();
                }
                final int pairs = scratch.getShort(0, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
                return pairs >= VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN && pairs <= VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX &&
                    pairs <= maxVirtqueuePairs ? out.submit(pairs) : out.error();
            case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
                if (!has(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) || command != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET ||
                    !readPayload(memory, chain, payloadLength, NetDescriptor.OFFLOADS_LENGTH))
                {
                    return out.error();
                }
                final long offloads = scratch.getLong(0, ByteOrder.LITTLE_ENDIAN);
                // Only offloads that are both switchable and negotiated may be turned on.
                return (offloads & ~(GUEST_OFFLOAD_BITS & features)) == 0 ? out.submit(offloads) : out.error();
            default:
                return out.error();
        }
    }

    private int parseRx(
        final GuestMemory memory, final DescriptorChain chain, final int command, final long payloadLength,
        final NetCtrlRequest out)
    {
        final boolean allowed = command <= VIRTIO_NET_CTRL_RX_ALLMULTI ? has(VIRTIO_NET_F_CTRL_RX) :
            command <= VIRTIO_NET_CTRL_RX_NOBCAST && has(VIRTIO_NET_F_CTRL_RX_EXTRA);
        if (!allowed || !readPayload(memory, chain, payloadLength, NetDescriptor.RX_MODE_LENGTH))
        {
            return out.error();
        }
        return out.submit(scratch.getByte(0) != 0 ? 1 : 0);
    }

    private int parseMac(
        final GuestMemory memory, final DescriptorChain chain, final int command, final long payloadLength,
        final NetCtrlRequest out)
    {
        if (command == VIRTIO_NET_CTRL_MAC_ADDR_SET)
        {
            if (!has(VIRTIO_NET_F_CTRL_MAC_ADDR) || !readPayload(memory, chain, payloadLength, ETH_ALEN))
            {
                return out.error();
            }
            long mac = 0;
            for (int i = 0; i < ETH_ALEN; i++)
            {
                mac = (mac << 8) | (scratch.getByte(i) & 0xFF);
            }
            return out.submit(mac);
        }
        if (command != VIRTIO_NET_CTRL_MAC_TABLE_SET || !has(VIRTIO_NET_F_CTRL_RX))
        {
            return out.error();
        }
        // Two tables back to back: le32 entries, entries * 6 bytes; the sizes must add up exactly.
        final int header = NetDescriptor.MAC_TABLE_ENTRIES_LENGTH;
        if (payloadLength < 2L * header ||
            !ChainBytes.copyReadable(memory, chain, CTRL_HEADER_LENGTH, scratch, 0, header))
        {
            return out.error();
        }
        final long unicast = scratch.getInt(0, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        final long multicastAt = header + unicast * ETH_ALEN;
        if (multicastAt + header > payloadLength ||
            !ChainBytes.copyReadable(memory, chain, CTRL_HEADER_LENGTH + multicastAt, scratch, 0, header))
        {
            return out.error();
        }
        final long multicast = scratch.getInt(0, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        if (multicastAt + header + multicast * ETH_ALEN != payloadLength)
        {
            return out.error();
        }
        out.macTable(unicast, multicast);
        return out.submit(0);
    }

    /** Reads a payload of exactly {@code expected} bytes into the scratch buffer. */
    private boolean readPayload(
        final GuestMemory memory, final DescriptorChain chain, final long payloadLength, final int expected)
    {
        return payloadLength == expected &&
            ChainBytes.copyReadable(memory, chain, CTRL_HEADER_LENGTH, scratch, 0, expected);
    }

    private boolean has(final int feature)
    {
        return VirtioFeatures.has(features, feature);
    }
}
