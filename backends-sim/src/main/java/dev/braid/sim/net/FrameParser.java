package dev.braid.sim.net;

import static dev.braid.sim.net.FrameDescriptor.*;

/**
 * Reads and checks frames held in a byte array at offset 0: field accessors, a validity check that
 * never throws on any input, Internet checksums, the rx flow hash, and reply verifiers for tests.
 */
public final class FrameParser
{
    public static final int OK = 0;
    /** Shorter than its headers. */
    public static final int TRUNCATED = 1;
    /** A length field disagrees with the frame. */
    public static final int BAD_LENGTH = 2;
    /** A header field holds a value this segment does not accept (IP version, ARP hardware type...). */
    public static final int BAD_HEADER = 3;
    public static final int BAD_IP_CHECKSUM = 4;
    public static final int BAD_L4_CHECKSUM = 5;

    private FrameParser()
    {
    }

    /**
     * Checks {@code frame[0, length)}: Ethernet, then ARP or IPv4 with ICMP or UDP checksums. Other
     * ethertypes and IP protocols pass with only their outer headers checked. Returns {@link #OK} or
     * an error code.
     */
    public static int check(final byte[] frame, final int length)
    {
        if (length < ETH_HEADER_LENGTH || length > frame.length)
        {
            return TRUNCATED;
        }
        final int type = u16(frame, ETH_TYPE);
        if (type == ETHERTYPE_ARP)
        {
            if (length < ARP_FRAME_LENGTH)
            {
                return TRUNCATED;
            }
            final int oper = u16(frame, ARP_OPER);
            if (u16(frame, ARP_HTYPE) != ARP_HTYPE_ETHERNET || u16(frame, ARP_PTYPE) != ETHERTYPE_IPV4 ||
                (frame[ARP_HLEN] & 0xFF) != 6 || (frame[ARP_PLEN] & 0xFF) != 4 ||
                (oper != ARP_REQUEST && oper != ARP_REPLY))
            {
                return BAD_HEADER;
            }
            return OK;
        }
        if (type != ETHERTYPE_IPV4)
        {
            return OK;
        }
        if (length < IP + IP_HEADER_LENGTH)
        {
            return TRUNCATED;
        }
        final int versionIhl = frame[IP + IP_VERSION_IHL] & 0xFF;
        final int headerLength = (versionIhl & 0x0F) * 4;
        if (versionIhl >>> 4 != 4 || headerLength < IP_HEADER_LENGTH)
        {
            return BAD_HEADER;
        }
        if (headerLength > length - IP)
        {
            return TRUNCATED;
        }
        final int totalLength = u16(frame, IP + IP_TOTAL_LENGTH);
        if (totalLength < headerLength || totalLength > length - IP)
        {
            return BAD_LENGTH;
        }
        if (checksum(frame, IP, headerLength, 0) != 0)
        {
            return BAD_IP_CHECKSUM;
        }
        if ((u16(frame, IP + IP_FLAGS_FRAGMENT) & (IP_MORE_FRAGMENTS | IP_FRAGMENT_OFFSET_MASK)) != 0)
        {
            // A fragment: its transport header and checksum cover the whole datagram, not this frame.
            return OK;
        }
        final int l4 = IP + headerLength;
        final int l4Length = totalLength - headerLength;
        final int protocol = frame[IP + IP_PROTOCOL] & 0xFF;
        if (protocol == PROTOCOL_ICMP)
        {
            if (l4Length < ICMP_HEADER_LENGTH)
            {
                return TRUNCATED;
            }
            return checksum(frame, l4, l4Length, 0) == 0 ? OK : BAD_L4_CHECKSUM;
        }
        if (protocol == PROTOCOL_UDP)
        {
            if (l4Length < UDP_HEADER_LENGTH)
            {
                return TRUNCATED;
            }
            final int udpLength = u16(frame, l4 + UDP_LENGTH);
            if (udpLength < UDP_HEADER_LENGTH || udpLength > l4Length)
            {
                return BAD_LENGTH;
            }
            if (u16(frame, l4 + UDP_CHECKSUM) == 0)
            {
                return OK;
            }
            return checksum(frame, l4, udpLength, pseudoHeaderSum(frame, udpLength)) == 0 ? OK : BAD_L4_CHECKSUM;
        }
        return OK;
    }

    // ---------------------------------------------------------------- fields

    public static int u16(final byte[] b, final int at)
    {
        return (b[at] & 0xFF) << 8 | b[at + 1] & 0xFF;
    }

    public static int i32(final byte[] b, final int at)
    {
        return u16(b, at) << 16 | u16(b, at + 2);
    }

    /** A 48-bit MAC address at {@code at}, as a long. */
    public static long mac(final byte[] b, final int at)
    {
        return (long)u16(b, at) << 32 | (i32(b, at + 2) & 0xFFFF_FFFFL);
    }

    public static long dstMac(final byte[] frame)
    {
        return mac(frame, ETH_DST);
    }

    public static long srcMac(final byte[] frame)
    {
        return mac(frame, ETH_SRC);
    }

    public static int etherType(final byte[] frame)
    {
        return u16(frame, ETH_TYPE);
    }

    public static boolean isMulticast(final long mac)
    {
        return (mac & 0x0100_0000_0000L) != 0;
    }

    /** Bytes of the IPv4 header (valid frames only). */
    public static int ipHeaderLength(final byte[] frame)
    {
        return (frame[IP + IP_VERSION_IHL] & 0x0F) * 4;
    }

    /** Whether a valid ARP frame is a gratuitous announcement: sender and target protocol address equal and not 0. */
    public static boolean isGratuitousArp(final byte[] frame)
    {
        final int spa = i32(frame, ARP_SPA);
        return spa != 0 && spa == i32(frame, ARP_TPA);
    }

    // ---------------------------------------------------------------- checksums and hashing

    /**
     * The Internet checksum (RFC 1071) of {@code b[offset, offset + length)} plus {@code initial} (an
     * unfolded partial sum). Returns the folded one's-complement: 0 when a checksummed region verifies.
     */
    public static int checksum(final byte[] b, final int offset, final int length, final long initial)
    {
        long sum = initial;
        int i = offset;
        final int end = offset + length;
        for (; i + 1 < end; i += 2)
        {
            sum += u16(b, i);
        }
        if (i < end)
        {
            sum += (b[i] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)(~sum & 0xFFFF);
    }

    /** Unfolded sum of the UDP/TCP pseudo header of the IPv4 frame {@code frame}. */
    public static long pseudoHeaderSum(final byte[] frame, final int l4Length)
    {
        return (long)u16(frame, IP + IP_SRC) + u16(frame, IP + IP_SRC + 2) +
            u16(frame, IP + IP_DST) + u16(frame, IP + IP_DST + 2) +
            (frame[IP + IP_PROTOCOL] & 0xFF) + l4Length;
    }

    /**
     * A hash of the flow a valid frame belongs to: IPv4 addresses, protocol and, for unfragmented TCP
     * and UDP, the ports. Non-IP frames hash to 0 (they all land on one rx queue).
     */
    public static int flowHash(final byte[] frame, final int length)
    {
        if (length < IP + IP_HEADER_LENGTH || etherType(frame) != ETHERTYPE_IPV4)
        {
            return 0;
        }
        final int protocol = frame[IP + IP_PROTOCOL] & 0xFF;
        int h = mix(i32(frame, IP + IP_SRC) * 31 + i32(frame, IP + IP_DST));
        h = mix(h ^ protocol);
        final int l4 = IP + ipHeaderLength(frame);
        final boolean fragment = (u16(frame, IP + IP_FLAGS_FRAGMENT) & (IP_MORE_FRAGMENTS | IP_FRAGMENT_OFFSET_MASK)) != 0;
        if ((protocol == PROTOCOL_UDP || protocol == PROTOCOL_TCP) && !fragment && l4 + 4 <= length)
        {
            h = mix(h ^ i32(frame, l4));
        }
        return h & 0x7FFF_FFFF;
    }

    private static int mix(final int value)
    {
        int h = value * 0x9E37_79B9;
        h ^= h >>> 16;
        h *= 0x85EB_CA6B;
        return h ^ h >>> 13;
    }

    // ---------------------------------------------------------------- reply verification (tests, soak guest)

    /**
     * Whether {@code frame} is a valid ICMP echo reply from {@code srcIp} to {@code dstIp} with the
     * given id, sequence and payload.
     */
    public static boolean isEchoReply(
        final byte[] frame, final int length, final int srcIp, final int dstIp, final int id, final int seq,
        final byte[] payload, final int payloadOffset, final int payloadLength)
    {
        if (!isIpv4(frame, length, PROTOCOL_ICMP, srcIp, dstIp))
        {
            return false;
        }
        final int icmp = IP + ipHeaderLength(frame);
        final int icmpLength = u16(frame, IP + IP_TOTAL_LENGTH) - ipHeaderLength(frame);
        return frame[icmp + ICMP_TYPE] == ICMP_ECHO_REPLY && frame[icmp + ICMP_CODE] == 0 &&
            u16(frame, icmp + ICMP_ID) == id && u16(frame, icmp + ICMP_SEQ) == seq &&
            icmpLength - ICMP_HEADER_LENGTH == payloadLength &&
            equal(frame, icmp + ICMP_HEADER_LENGTH, payload, payloadOffset, payloadLength);
    }

    /** Whether {@code frame} is a valid UDP datagram with these addresses, ports and payload. */
    public static boolean isUdp(
        final byte[] frame, final int length, final int srcIp, final int dstIp, final int srcPort, final int dstPort,
        final byte[] payload, final int payloadOffset, final int payloadLength)
    {
        if (!isIpv4(frame, length, PROTOCOL_UDP, srcIp, dstIp))
        {
            return false;
        }
        final int udp = IP + ipHeaderLength(frame);
        return u16(frame, udp + UDP_SRC_PORT) == srcPort && u16(frame, udp + UDP_DST_PORT) == dstPort &&
            u16(frame, udp + UDP_LENGTH) - UDP_HEADER_LENGTH == payloadLength &&
            equal(frame, udp + UDP_HEADER_LENGTH, payload, payloadOffset, payloadLength);
    }

    /** Whether {@code frame} is an ARP reply saying {@code ip} is at {@code mac}. */
    public static boolean isArpReply(final byte[] frame, final int length, final int ip, final long mac)
    {
        return check(frame, length) == OK && etherType(frame) == ETHERTYPE_ARP &&
            u16(frame, ARP_OPER) == ARP_REPLY && i32(frame, ARP_SPA) == ip && mac(frame, ARP_SHA) == mac;
    }

    /** Whether {@code frame} is a valid IPv4 packet of {@code protocol} from {@code srcIp} to {@code dstIp}. */
    private static boolean isIpv4(
        final byte[] frame, final int length, final int protocol, final int srcIp, final int dstIp)
    {
        return check(frame, length) == OK && etherType(frame) == ETHERTYPE_IPV4 &&
            (frame[IP + IP_PROTOCOL] & 0xFF) == protocol &&
            i32(frame, IP + IP_SRC) == srcIp && i32(frame, IP + IP_DST) == dstIp;
    }

    private static boolean equal(final byte[] a, final int aOffset, final byte[] b, final int bOffset, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            if (a[aOffset + i] != b[bOffset + i])
            {
                return false;
            }
        }
        return true;
    }
}
