package dev.braid.mapper;

import org.agrona.DirectBuffer;

import static dev.braid.mapper.FrameDescriptor.*;

/**
 * Flow hashes for {@link FlowHashSelector}: a net frame's 5-tuple, or a blk request's position.
 *
 * <p>The frame is guest data: any bytes, any length, any offset. Parsing reads only inside
 * {@code [offset, offset + length)} clipped to the array or buffer, visits a bounded number of
 * headers and never throws. What cannot be parsed hashes by what could: IPv4/IPv6 with TCP, UDP,
 * UDP-Lite or SCTP hash the 5-tuple; fragments (all of them, so a flow's fragments stay together)
 * and other protocols hash addresses and protocol; non-IP frames hash the MAC addresses and
 * EtherType; a frame shorter than an Ethernet header hashes to 0. Up to two VLAN tags are skipped.
 */
public final class FlowHash
{
    /** Default blk hint granularity: 2^8 sectors of 512 bytes, i.e. 128 KiB stripes. */
    public static final int DEFAULT_SECTOR_SHIFT = 8;

    private static final long SEED = 0x2545F4914F6CDD1DL;

    private FlowHash()
    {
    }

    /** Hash of the Ethernet frame in {@code frame[offset, offset + length)}. */
    public static int ofFrame(final byte[] frame, final int offset, final int length)
    {
        if (frame == null || offset < 0 || length <= 0 || offset >= frame.length)
        {
            return 0;
        }
        return parse(frame, null, offset, offset + Math.min(length, frame.length - offset));
    }

    /** Hash of the Ethernet frame in {@code buffer[offset, offset + length)}. */
    public static int ofFrame(final DirectBuffer buffer, final int offset, final int length)
    {
        if (buffer == null || offset < 0 || length <= 0 || offset >= buffer.capacity())
        {
            return 0;
        }
        return parse(null, buffer, offset, offset + Math.min(length, buffer.capacity() - offset));
    }

    /** blk hint: requests within one {@code 2^DEFAULT_SECTOR_SHIFT}-sector stripe share a hash. */
    public static int ofSector(final long sector)
    {
        return ofSector(sector, DEFAULT_SECTOR_SHIFT);
    }

    /** blk hint: requests within one {@code 2^shift}-sector stripe share a hash ({@code shift} taken mod 64). */
    public static int ofSector(final long sector, final int shift)
    {
        return fold(SplitMix64.mix64((sector >>> (shift & 63)) ^ SEED));
    }

    // One parser for both storage kinds: exactly one of array and buffer is non-null.
    // Every read is preceded by a check that it ends at or before limit.
    private static int parse(final byte[] array, final DirectBuffer buffer, final int offset, final int limit)
    {
        if (limit - offset < ETH_HEADER_LENGTH)
        {
            return 0;
        }
        int l2 = offset;
        int etherType = u16(array, buffer, l2 + ETH_TYPE_OFFSET);
        for (int tags = 0; tags < MAX_VLAN_TAGS && (etherType == ETH_TYPE_VLAN || etherType == ETH_TYPE_QINQ); tags++)
        {
            if (limit - l2 < ETH_HEADER_LENGTH + VLAN_TAG_LENGTH)
            {
                break;
            }
            l2 += VLAN_TAG_LENGTH;
            etherType = u16(array, buffer, l2 + ETH_TYPE_OFFSET);
        }
        final int l3 = l2 + ETH_HEADER_LENGTH;

        if (etherType == ETH_TYPE_IPV4 && limit - l3 >= IPV4_MIN_HEADER_LENGTH &&
            (u8(array, buffer, l3) >>> 4) == 4)
        {
            return ipv4(array, buffer, l3, limit);
        }
        if (etherType == ETH_TYPE_IPV6 && limit - l3 >= IPV6_HEADER_LENGTH && (u8(array, buffer, l3) >>> 4) == 6)
        {
            return ipv6(array, buffer, l3, limit);
        }

        long h = step(SEED, etherType);
        for (int i = 0; i < ETH_MACS_LENGTH; i += 4)
        {
            h = step(h, u32(array, buffer, offset + i));
        }
        return fold(SplitMix64.mix64(h));
    }

    private static int ipv4(final byte[] array, final DirectBuffer buffer, final int l3, final int limit)
    {
        final int headerLength = (u8(array, buffer, l3) & 0xF) * 4;
        final int protocol = u8(array, buffer, l3 + IPV4_PROTOCOL_OFFSET);
        long h = step(SEED, 4);
        h = step(h, u32(array, buffer, l3 + IPV4_SOURCE_OFFSET));
        h = step(h, u32(array, buffer, l3 + IPV4_DESTINATION_OFFSET));
        h = step(h, protocol);

        final boolean fragment = (u16(array, buffer, l3 + IPV4_FRAGMENT_OFFSET) & IPV4_MORE_FRAGMENTS_AND_OFFSET_MASK) != 0;
        final int l4 = l3 + headerLength;
        if (!fragment && headerLength >= IPV4_MIN_HEADER_LENGTH && hasPorts(protocol) &&
            limit - l4 >= L4_PORTS_LENGTH)
        {
            h = step(h, u32(array, buffer, l4));
        }
        return fold(SplitMix64.mix64(h));
    }

    private static int ipv6(final byte[] array, final DirectBuffer buffer, final int l3, final int limit)
    {
        long h = step(SEED, 6);
        for (int i = 0; i < 2 * IPV6_ADDRESS_LENGTH; i += 4)
        {
            h = step(h, u32(array, buffer, l3 + IPV6_SOURCE_OFFSET + i));
        }

        int protocol = u8(array, buffer, l3 + IPV6_NEXT_HEADER_OFFSET);
        int l4 = l3 + IPV6_HEADER_LENGTH;
        boolean portsReachable = true;
        for (int i = 0; i < IPV6_MAX_EXTENSION_HEADERS; i++)
        {
            final int extensionLength;
            if (protocol == IPPROTO_HOPOPTS || protocol == IPPROTO_ROUTING || protocol == IPPROTO_DSTOPTS)
            {
                extensionLength = limit - l4 >= 2 ? (u8(array, buffer, l4 + 1) + 1) * 8 : -1;
            }
            else if (protocol == IPPROTO_AH)
            {
                extensionLength = limit - l4 >= 2 ? (u8(array, buffer, l4 + 1) + 2) * 4 : -1;
            }
            else if (protocol == IPPROTO_FRAGMENT)
            {
                // Later fragments carry no ports; leave them out for every fragment of the flow.
                portsReachable = false;
                extensionLength = limit - l4 >= IPV6_FRAGMENT_HEADER_LENGTH ? IPV6_FRAGMENT_HEADER_LENGTH : -1;
            }
            else
            {
                break;
            }
            if (extensionLength < 0 || limit - l4 < extensionLength)
            {
                // Truncated chain: the transport protocol is unknown.
                portsReachable = false;
                protocol = 0xFF;
                break;
            }
            protocol = u8(array, buffer, l4);
            l4 += extensionLength;
        }

        h = step(h, protocol);
        if (portsReachable && hasPorts(protocol) && limit - l4 >= L4_PORTS_LENGTH)
        {
            h = step(h, u32(array, buffer, l4));
        }
        return fold(SplitMix64.mix64(h));
    }

    private static boolean hasPorts(final int protocol)
    {
        return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP ||
            protocol == IPPROTO_UDPLITE;
    }

    private static long step(final long h, final int word)
    {
        return Long.rotateLeft(h ^ ((word & 0xFFFF_FFFFL) * 0x9E3779B97F4A7C15L), 27) * 0xC2B2AE3D27D4EB4FL;
    }

    private static int fold(final long h)
    {
        return (int)(h ^ (h >>> 32));
    }

    private static int u8(final byte[] array, final DirectBuffer buffer, final int index)
    {
        return (array != null ? array[index] : buffer.getByte(index)) & 0xFF;
    }

    private static int u16(final byte[] array, final DirectBuffer buffer, final int index)
    {
        return u8(array, buffer, index) << 8 | u8(array, buffer, index + 1);
    }

    private static int u32(final byte[] array, final DirectBuffer buffer, final int index)
    {
        return u16(array, buffer, index) << 16 | u16(array, buffer, index + 2);
    }
}
