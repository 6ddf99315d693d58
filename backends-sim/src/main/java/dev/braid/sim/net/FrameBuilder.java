package dev.braid.sim.net;

import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.sim.net.FrameDescriptor.*;

/**
 * Builds frames into a byte array at offset 0 (ARP, ICMP echo, UDP, with correct checksums) and
 * copies them into guest memory. For tests, the soak guest and the simulated peer; allocation-free.
 * MAC addresses are 48-bit longs, IPv4 addresses ints in the usual reading order (10.0.0.1 = 0x0A000001).
 * Each builder returns the frame length; the array must hold it.
 */
public final class FrameBuilder
{
    private static final int DEFAULT_TTL = 64;

    private FrameBuilder()
    {
    }

    public static int arpRequest(final byte[] f, final long srcMac, final int srcIp, final int targetIp)
    {
        return arp(f, ARP_REQUEST, srcMac, srcIp, BROADCAST_MAC, 0L, targetIp);
    }

    public static int arpReply(final byte[] f, final long srcMac, final int srcIp, final long dstMac, final int dstIp)
    {
        return arp(f, ARP_REPLY, srcMac, srcIp, dstMac, dstMac, dstIp);
    }

    /** A gratuitous ARP request (RFC 5227 announcement): broadcast, sender and target address both {@code ip}. */
    public static int gratuitousArp(final byte[] f, final long mac, final int ip)
    {
        return arp(f, ARP_REQUEST, mac, ip, BROADCAST_MAC, 0L, ip);
    }

    public static int icmpEchoRequest(
        final byte[] f, final long srcMac, final long dstMac, final int srcIp, final int dstIp, final int id, final int seq,
        final byte[] payload, final int payloadOffset, final int payloadLength)
    {
        return icmpEcho(f, ICMP_ECHO_REQUEST, srcMac, dstMac, srcIp, dstIp, id, seq, payload, payloadOffset, payloadLength);
    }

    public static int icmpEcho(
        final byte[] f, final int type, final long srcMac, final long dstMac, final int srcIp, final int dstIp,
        final int id, final int seq, final byte[] payload, final int payloadOffset, final int payloadLength)
    {
        final int icmpLength = ICMP_HEADER_LENGTH + payloadLength;
        ethernet(f, dstMac, srcMac, ETHERTYPE_IPV4);
        ipv4(f, IP_HEADER_LENGTH + icmpLength, PROTOCOL_ICMP, srcIp, dstIp);
        final int icmp = IP + IP_HEADER_LENGTH;
        f[icmp + ICMP_TYPE] = (byte)type;
        f[icmp + ICMP_CODE] = 0;
        putU16(f, icmp + ICMP_CHECKSUM, 0);
        putU16(f, icmp + ICMP_ID, id);
        putU16(f, icmp + ICMP_SEQ, seq);
        System.arraycopy(payload, payloadOffset, f, icmp + ICMP_HEADER_LENGTH, payloadLength);
        putU16(f, icmp + ICMP_CHECKSUM, FrameParser.checksum(f, icmp, icmpLength, 0));
        return icmp + icmpLength;
    }

    /** A UDP datagram; with {@code checksum} false the UDP checksum is 0 ("not computed"). */
    public static int udp(
        final byte[] f, final long srcMac, final long dstMac, final int srcIp, final int dstIp,
        final int srcPort, final int dstPort, final byte[] payload, final int payloadOffset, final int payloadLength,
        final boolean checksum)
    {
        final int udpLength = UDP_HEADER_LENGTH + payloadLength;
        ethernet(f, dstMac, srcMac, ETHERTYPE_IPV4);
        ipv4(f, IP_HEADER_LENGTH + udpLength, PROTOCOL_UDP, srcIp, dstIp);
        final int udp = IP + IP_HEADER_LENGTH;
        putU16(f, udp + UDP_SRC_PORT, srcPort);
        putU16(f, udp + UDP_DST_PORT, dstPort);
        putU16(f, udp + UDP_LENGTH, udpLength);
        putU16(f, udp + UDP_CHECKSUM, 0);
        System.arraycopy(payload, payloadOffset, f, udp + UDP_HEADER_LENGTH, payloadLength);
        if (checksum)
        {
            fillUdpChecksum(f, udp, udpLength);
        }
        return udp + udpLength;
    }

    /** Recomputes the IPv4 header checksum of {@code f} in place. */
    public static void fillIpChecksum(final byte[] f)
    {
        final int headerLength = FrameParser.ipHeaderLength(f);
        putU16(f, IP + IP_CHECKSUM, 0);
        putU16(f, IP + IP_CHECKSUM, FrameParser.checksum(f, IP, headerLength, 0));
    }

    /** Computes the UDP checksum of the datagram at {@code udp}; a computed 0 is sent as 0xFFFF (RFC 768). */
    public static void fillUdpChecksum(final byte[] f, final int udp, final int udpLength)
    {
        putU16(f, udp + UDP_CHECKSUM, 0);
        final int sum = FrameParser.checksum(f, udp, udpLength, FrameParser.pseudoHeaderSum(f, udpLength));
        putU16(f, udp + UDP_CHECKSUM, sum == 0 ? 0xFFFF : sum);
    }

    /** Writes a zeroed {@code headerSkip}-byte header (the virtio-net header) and then the frame at {@code gpa}. */
    public static void writeToGuest(
        final GuestMemory memory, final long gpa, final int headerSkip, final byte[] frame, final int length)
    {
        memory.setMemory(gpa, headerSkip, (byte)0);
        memory.putBytes(gpa + headerSkip, frame, 0, length);
    }

    public static byte[] macBytes(final long mac)
    {
        final byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(mac >>> (40 - 8 * i));
        }
        return bytes;
    }

    /** The MAC in {@code mac[0..5]} as a long; -1 when the array is not 6 bytes. */
    public static long macValue(final byte[] mac)
    {
        if (mac == null || mac.length != 6)
        {
            return -1;
        }
        return FrameParser.mac(mac, 0);
    }

    public static int ipv4(final int a, final int b, final int c, final int d)
    {
        return (a & 0xFF) << 24 | (b & 0xFF) << 16 | (c & 0xFF) << 8 | d & 0xFF;
    }

    static void ethernet(final byte[] f, final long dstMac, final long srcMac, final int etherType)
    {
        putMac(f, ETH_DST, dstMac);
        putMac(f, ETH_SRC, srcMac);
        putU16(f, ETH_TYPE, etherType);
    }

    private static void ipv4(final byte[] f, final int totalLength, final int protocol, final int srcIp, final int dstIp)
    {
        f[IP + IP_VERSION_IHL] = 0x45;
        f[IP + 1] = 0;
        putU16(f, IP + IP_TOTAL_LENGTH, totalLength);
        putU16(f, IP + IP_ID, 0);
        putU16(f, IP + IP_FLAGS_FRAGMENT, 0x4000);                 // DF
        f[IP + IP_TTL] = (byte)DEFAULT_TTL;
        f[IP + IP_PROTOCOL] = (byte)protocol;
        putU32(f, IP + IP_SRC, srcIp);
        putU32(f, IP + IP_DST, dstIp);
        fillIpChecksum(f);
    }

    private static int arp(
        final byte[] f, final int oper, final long srcMac, final int srcIp, final long dstMac, final long targetMac,
        final int targetIp)
    {
        ethernet(f, dstMac, srcMac, ETHERTYPE_ARP);
        putU16(f, ARP_HTYPE, ARP_HTYPE_ETHERNET);
        putU16(f, ARP_PTYPE, ETHERTYPE_IPV4);
        f[ARP_HLEN] = 6;
        f[ARP_PLEN] = 4;
        putU16(f, ARP_OPER, oper);
        putMac(f, ARP_SHA, srcMac);
        putU32(f, ARP_SPA, srcIp);
        putMac(f, ARP_THA, targetMac);
        putU32(f, ARP_TPA, targetIp);
        return ARP_FRAME_LENGTH;
    }

    static void putU16(final byte[] b, final int at, final int value)
    {
        b[at] = (byte)(value >>> 8);
        b[at + 1] = (byte)value;
    }

    static void putU32(final byte[] b, final int at, final int value)
    {
        putU16(b, at, value >>> 16);
        putU16(b, at + 2, value);
    }

    static void putMac(final byte[] b, final int at, final long mac)
    {
        putU16(b, at, (int)(mac >>> 32));
        putU32(b, at + 2, (int)mac);
    }
}
