package dev.braid.testkit.guest;

/**
 * The few Ethernet/IPv4 frames the net guest workload sends and reads back, in byte arrays at
 * offset 0: ICMP echo, UDP and gratuitous ARP, with real checksums, and a strict reply check.
 * Addresses are ints / 48-bit longs, first octet high.
 */
public final class GuestFrames
{
    public static final int ETH_HLEN = 14;
    public static final int IP = ETH_HLEN;
    public static final int IP_HLEN = 20;
    public static final int L4 = IP + IP_HLEN;
    public static final int ICMP_HLEN = 8;
    public static final int UDP_HLEN = 8;
    public static final int ETHERTYPE_IPV4 = 0x0800;
    public static final int ETHERTYPE_ARP = 0x0806;
    public static final int PROTO_ICMP = 1;
    public static final int PROTO_UDP = 17;
    public static final int ARP_FRAME = ETH_HLEN + 28;

    /** {@link #parseReply} results. */
    public static final int NOT_A_REPLY = 0;
    public static final int ICMP_REPLY = 1;
    public static final int UDP_REPLY = 2;
    public static final int MALFORMED = -1;

    private GuestFrames()
    {
    }

    public static int icmpEcho(
        final byte[] f, final long srcMac, final long dstMac, final int srcIp, final int dstIp,
        final int ident, final int seq, final byte[] payload, final int payloadLength)
    {
        final int l4Length = ICMP_HLEN + payloadLength;
        ipv4(f, srcMac, dstMac, srcIp, dstIp, PROTO_ICMP, l4Length, seq);
        f[L4] = 8;
        f[L4 + 1] = 0;
        putU16(f, L4 + 2, 0);
        putU16(f, L4 + 4, ident);
        putU16(f, L4 + 6, seq);
        System.arraycopy(payload, 0, f, L4 + ICMP_HLEN, payloadLength);
        putU16(f, L4 + 2, checksum(f, L4, l4Length, 0));
        return L4 + l4Length;
    }

    public static int udp(
        final byte[] f, final long srcMac, final long dstMac, final int srcIp, final int dstIp,
        final int srcPort, final int dstPort, final byte[] payload, final int payloadLength)
    {
        final int l4Length = UDP_HLEN + payloadLength;
        ipv4(f, srcMac, dstMac, srcIp, dstIp, PROTO_UDP, l4Length, srcPort);
        putU16(f, L4, srcPort);
        putU16(f, L4 + 2, dstPort);
        putU16(f, L4 + 4, l4Length);
        putU16(f, L4 + 6, 0);
        System.arraycopy(payload, 0, f, L4 + UDP_HLEN, payloadLength);
        final int sum = checksum(f, L4, l4Length, pseudoHeader(f, l4Length));
        putU16(f, L4 + 6, sum == 0 ? 0xFFFF : sum);
        return L4 + l4Length;
    }

    /** A gratuitous ARP request for {@code ip} at {@code mac} (what a guest sends on ANNOUNCE). */
    public static int gratuitousArp(final byte[] f, final long mac, final int ip)
    {
        ethernet(f, mac, 0xFFFF_FFFF_FFFFL, ETHERTYPE_ARP);
        putU16(f, ETH_HLEN, 1);
        putU16(f, ETH_HLEN + 2, ETHERTYPE_IPV4);
        f[ETH_HLEN + 4] = 6;
        f[ETH_HLEN + 5] = 4;
        putU16(f, ETH_HLEN + 6, 1);
        putMac(f, ETH_HLEN + 8, mac);
        putU32(f, ETH_HLEN + 14, ip);
        putMac(f, ETH_HLEN + 18, 0);
        putU32(f, ETH_HLEN + 24, ip);
        return ARP_FRAME;
    }

    /**
     * Checks a frame as a reply to this guest: Ethernet to {@code myMac} from the peer, IPv4 with a
     * good header checksum, from {@code peerIp} to {@code myIp}, then an ICMP echo reply or a UDP
     * datagram with a good checksum. Returns the kind; the payload starts at {@link #payloadOffset}.
     */
    public static int parseReply(
        final byte[] f, final int length, final long myMac, final int myIp, final long peerMac, final int peerIp)
    {
        if (length < ETH_HLEN || u16(f, 12) != ETHERTYPE_IPV4)
        {
            return NOT_A_REPLY;
        }
        if (length < L4 || mac(f, 0) != myMac || mac(f, 6) != peerMac || (f[IP] & 0xFF) != 0x45 ||
            checksum(f, IP, IP_HLEN, 0) != 0 || u32(f, IP + 12) != peerIp || u32(f, IP + 16) != myIp)
        {
            return MALFORMED;
        }
        final int totalLength = u16(f, IP + 2);
        if (totalLength < IP_HLEN || IP + totalLength > length)
        {
            return MALFORMED;
        }
        final int l4Length = totalLength - IP_HLEN;
        final int protocol = f[IP + 9] & 0xFF;
        if (protocol == PROTO_ICMP)
        {
            return l4Length >= ICMP_HLEN && f[L4] == 0 && f[L4 + 1] == 0 && checksum(f, L4, l4Length, 0) == 0 ?
                ICMP_REPLY : MALFORMED;
        }
        if (protocol == PROTO_UDP)
        {
            if (l4Length < UDP_HLEN || u16(f, L4 + 4) != l4Length)
            {
                return MALFORMED;
            }
            return u16(f, L4 + 6) == 0 || checksum(f, L4, l4Length, pseudoHeader(f, l4Length)) == 0 ?
                UDP_REPLY : MALFORMED;
        }
        return MALFORMED;
    }

    public static int payloadOffset(final int kind)
    {
        return L4 + (kind == ICMP_REPLY ? ICMP_HLEN : UDP_HLEN);
    }

    public static int payloadLength(final byte[] f, final int kind)
    {
        return u16(f, IP + 2) - IP_HLEN - (kind == ICMP_REPLY ? ICMP_HLEN : UDP_HLEN);
    }

    private static void ipv4(
        final byte[] f, final long srcMac, final long dstMac, final int srcIp, final int dstIp, final int protocol,
        final int l4Length, final int id)
    {
        ethernet(f, srcMac, dstMac, ETHERTYPE_IPV4);
        f[IP] = 0x45;
        f[IP + 1] = 0;
        putU16(f, IP + 2, IP_HLEN + l4Length);
        putU16(f, IP + 4, id);
        putU16(f, IP + 6, 0x4000);
        f[IP + 8] = 64;
        f[IP + 9] = (byte)protocol;
        putU16(f, IP + 10, 0);
        putU32(f, IP + 12, srcIp);
        putU32(f, IP + 16, dstIp);
        putU16(f, IP + 10, checksum(f, IP, IP_HLEN, 0));
    }

    private static void ethernet(final byte[] f, final long srcMac, final long dstMac, final int type)
    {
        putMac(f, 0, dstMac);
        putMac(f, 6, srcMac);
        putU16(f, 12, type);
    }

    private static int pseudoHeader(final byte[] f, final int l4Length)
    {
        int sum = 0;
        for (int i = IP + 12; i < IP + 20; i += 2)
        {
            sum += u16(f, i);
        }
        return sum + (f[IP + 9] & 0xFF) + l4Length;
    }

    /** The Internet checksum of {@code f[offset, offset + length)} plus {@code initial}. */
    public static int checksum(final byte[] f, final int offset, final int length, final int initial)
    {
        long sum = initial & 0xFFFF_FFFFL;
        int i = offset;
        for (; i + 1 < offset + length; i += 2)
        {
            sum += u16(f, i);
        }
        if (i < offset + length)
        {
            sum += (f[i] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)(~sum & 0xFFFF);
    }

    public static int u16(final byte[] f, final int at)
    {
        return (f[at] & 0xFF) << 8 | f[at + 1] & 0xFF;
    }

    public static int u32(final byte[] f, final int at)
    {
        return u16(f, at) << 16 | u16(f, at + 2);
    }

    public static long mac(final byte[] f, final int at)
    {
        return (long)u16(f, at) << 32 | u32(f, at + 2) & 0xFFFF_FFFFL;
    }

    public static void putU16(final byte[] f, final int at, final int v)
    {
        f[at] = (byte)(v >>> 8);
        f[at + 1] = (byte)v;
    }

    public static void putU32(final byte[] f, final int at, final int v)
    {
        putU16(f, at, v >>> 16);
        putU16(f, at + 2, v);
    }

    public static void putMac(final byte[] f, final int at, final long mac)
    {
        putU16(f, at, (int)(mac >>> 32));
        putU32(f, at + 2, (int)mac);
    }
}
