package dev.braid.sim.net;

import static dev.braid.sim.net.FrameDescriptor.*;

/**
 * The far end of an {@link L2Segment}: one host with a MAC and an IPv4 address. It answers ARP for
 * its address, ICMP echo requests and UDP (echoed back with addresses and ports swapped), records
 * gratuitous ARP announcements, and keeps an ARP cache so it can also send first. Malformed frames
 * are counted and dropped. Driven by its segment, which serialises all calls.
 */
public final class PeerHost
{
    private static final int ARP_CACHE_SIZE = 32;

    private final long mac;
    private final int ip;
    private final int[] cacheIps = new int[ARP_CACHE_SIZE];
    private final long[] cacheMacs = new long[ARP_CACHE_SIZE];
    private int cacheSize;
    private int cacheNext;

    // Written only under the segment's lock (one writer at a time); volatile so tests read them from any thread.
    private volatile long announcements;
    private volatile long lastAnnouncedMac = -1;
    private volatile int lastAnnouncedIp;
    private volatile long arpReplies;
    private volatile long echoReplies;
    private volatile long udpEchoes;
    private volatile long malformed;
    private volatile long ignored;

    public PeerHost(final long mac, final int ip)
    {
        this.mac = mac;
        this.ip = ip;
    }

    public long mac()
    {
        return mac;
    }

    public int ip()
    {
        return ip;
    }

    /**
     * Takes one frame addressed to this host (or broadcast) and builds the reply, if any, into
     * {@code reply}. Returns the reply length, or 0 when there is nothing to send.
     */
    int handle(final byte[] frame, final int length, final byte[] reply)
    {
        if (FrameParser.check(frame, length) != FrameParser.OK)
        {
            malformed++;
            return 0;
        }
        final int type = FrameParser.etherType(frame);
        if (type == ETHERTYPE_ARP)
        {
            return handleArp(frame, reply);
        }
        if (type != ETHERTYPE_IPV4 || FrameParser.i32(frame, IP + IP_DST) != ip ||
            (FrameParser.u16(frame, IP + IP_FLAGS_FRAGMENT) & (IP_MORE_FRAGMENTS | IP_FRAGMENT_OFFSET_MASK)) != 0)
        {
            ignored++;
            return 0;
        }
        learn(FrameParser.i32(frame, IP + IP_SRC), FrameParser.srcMac(frame));
        final int protocol = frame[IP + IP_PROTOCOL] & 0xFF;
        final int headerLength = FrameParser.ipHeaderLength(frame);
        final int totalLength = FrameParser.u16(frame, IP + IP_TOTAL_LENGTH);
        final int l4 = IP + headerLength;
        if (protocol == PROTOCOL_ICMP && frame[l4 + ICMP_TYPE] == ICMP_ECHO_REQUEST && frame[l4 + ICMP_CODE] == 0)
        {
            final int replyLength = swapped(frame, IP + totalLength, reply);
            reply[l4 + ICMP_TYPE] = ICMP_ECHO_REPLY;
            FrameBuilder.putU16(reply, l4 + ICMP_CHECKSUM, 0);
            FrameBuilder.putU16(reply, l4 + ICMP_CHECKSUM, FrameParser.checksum(reply, l4, totalLength - headerLength, 0));
            echoReplies++;
            return replyLength;
        }
        if (protocol == PROTOCOL_UDP)
        {
            final int replyLength = swapped(frame, IP + totalLength, reply);
            final int srcPort = FrameParser.u16(frame, l4 + UDP_SRC_PORT);
            FrameBuilder.putU16(reply, l4 + UDP_SRC_PORT, FrameParser.u16(frame, l4 + UDP_DST_PORT));
            FrameBuilder.putU16(reply, l4 + UDP_DST_PORT, srcPort);
            FrameBuilder.fillUdpChecksum(reply, l4, FrameParser.u16(frame, l4 + UDP_LENGTH));
            udpEchoes++;
            return replyLength;
        }
        ignored++;
        return 0;
    }

    /**
     * Builds a UDP datagram from this host to {@code dstIp} into {@code frame}, addressed to the MAC
     * its ARP cache holds for it. Returns the length, or 0 when the address is not cached.
     */
    int buildUdp(
        final byte[] frame, final int dstIp, final int srcPort, final int dstPort,
        final byte[] payload, final int payloadOffset, final int payloadLength)
    {
        final long dstMac = arpLookup(dstIp);
        if (dstMac < 0 || payloadLength > MAX_FRAME_LENGTH - IP - IP_HEADER_LENGTH - UDP_HEADER_LENGTH)
        {
            return 0;
        }
        return FrameBuilder.udp(frame, mac, dstMac, ip, dstIp, srcPort, dstPort, payload, payloadOffset, payloadLength, true);
    }

    /** The MAC the ARP cache holds for {@code address}, or -1. Call with the segment quiet (tests) or through it. */
    public synchronized long arpLookup(final int address)
    {
        for (int i = 0; i < cacheSize; i++)
        {
            if (cacheIps[i] == address)
            {
                return cacheMacs[i];
            }
        }
        return -1;
    }

    /** Gratuitous ARPs seen. */
    public long announcements()
    {
        return announcements;
    }

    /** The MAC of the last gratuitous ARP, or -1. */
    public long lastAnnouncedMac()
    {
        return lastAnnouncedMac;
    }

    public int lastAnnouncedIp()
    {
        return lastAnnouncedIp;
    }

    public long arpReplies()
    {
        return arpReplies;
    }

    public long echoReplies()
    {
        return echoReplies;
    }

    public long udpEchoes()
    {
        return udpEchoes;
    }

    /** Frames that failed {@link FrameParser#check}. */
    public long malformed()
    {
        return malformed;
    }

    /** Valid frames this host had nothing to say to (other protocols, other addresses, fragments). */
    public long ignored()
    {
        return ignored;
    }

    private int handleArp(final byte[] frame, final byte[] reply)
    {
        final long senderMac = FrameParser.mac(frame, ARP_SHA);
        final int senderIp = FrameParser.i32(frame, ARP_SPA);
        if (senderIp != 0)
        {
            learn(senderIp, senderMac);
        }
        if (FrameParser.isGratuitousArp(frame))
        {
            lastAnnouncedMac = senderMac;
            lastAnnouncedIp = senderIp;
            announcements++;
            return 0;
        }
        if (FrameParser.u16(frame, ARP_OPER) == ARP_REQUEST && FrameParser.i32(frame, ARP_TPA) == ip)
        {
            arpReplies++;
            return FrameBuilder.arpReply(reply, mac, ip, senderMac, senderIp);
        }
        ignored++;
        return 0;
    }

    /** Copies the IPv4 frame to {@code reply} with MACs and IP addresses swapped, fresh TTL and header checksum. */
    private int swapped(final byte[] frame, final int length, final byte[] reply)
    {
        System.arraycopy(frame, 0, reply, 0, length);
        FrameBuilder.putMac(reply, ETH_DST, FrameParser.srcMac(frame));
        FrameBuilder.putMac(reply, ETH_SRC, mac);
        FrameBuilder.putU32(reply, IP + IP_SRC, ip);
        FrameBuilder.putU32(reply, IP + IP_DST, FrameParser.i32(frame, IP + IP_SRC));
        reply[IP + IP_TTL] = 64;
        FrameBuilder.fillIpChecksum(reply);
        return length;
    }

    private synchronized void learn(final int address, final long hardware)
    {
        for (int i = 0; i < cacheSize; i++)
        {
            if (cacheIps[i] == address)
            {
                cacheMacs[i] = hardware;
                return;
            }
        }
        final int at = cacheSize < ARP_CACHE_SIZE ? cacheSize++ : cacheNext++ % ARP_CACHE_SIZE;
        cacheIps[at] = address;
        cacheMacs[at] = hardware;
    }
}
