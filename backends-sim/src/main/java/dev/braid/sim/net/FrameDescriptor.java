package dev.braid.sim.net;

/**
 * Byte layout of the frames the simulated segment understands: Ethernet II, ARP for IPv4 over
 * Ethernet, IPv4 without options in frames we build, ICMP echo and UDP. Offsets are from the start of
 * the Ethernet frame unless named relative; all fields are big-endian (network order).
 */
public final class FrameDescriptor
{
    public static final int ETH_DST = 0;
    public static final int ETH_SRC = 6;
    public static final int ETH_TYPE = 12;
    public static final int ETH_HEADER_LENGTH = 14;
    /** Largest frame without FCS: 1500-byte MTU + Ethernet header + one VLAN tag. */
    public static final int MAX_FRAME_LENGTH = 1518;

    public static final int ETHERTYPE_IPV4 = 0x0800;
    public static final int ETHERTYPE_ARP = 0x0806;

    public static final int ARP_HTYPE = 14;
    public static final int ARP_PTYPE = 16;
    public static final int ARP_HLEN = 18;
    public static final int ARP_PLEN = 19;
    public static final int ARP_OPER = 20;
    public static final int ARP_SHA = 22;
    public static final int ARP_SPA = 28;
    public static final int ARP_THA = 32;
    public static final int ARP_TPA = 38;
    public static final int ARP_FRAME_LENGTH = 42;
    public static final int ARP_HTYPE_ETHERNET = 1;
    public static final int ARP_REQUEST = 1;
    public static final int ARP_REPLY = 2;

    /** IPv4 header fields, relative to {@link #IP}. */
    public static final int IP = ETH_HEADER_LENGTH;
    public static final int IP_VERSION_IHL = 0;
    public static final int IP_TOTAL_LENGTH = 2;
    public static final int IP_ID = 4;
    public static final int IP_FLAGS_FRAGMENT = 6;
    public static final int IP_TTL = 8;
    public static final int IP_PROTOCOL = 9;
    public static final int IP_CHECKSUM = 10;
    public static final int IP_SRC = 12;
    public static final int IP_DST = 16;
    public static final int IP_HEADER_LENGTH = 20;
    public static final int IP_MORE_FRAGMENTS = 0x2000;
    public static final int IP_FRAGMENT_OFFSET_MASK = 0x1FFF;
    public static final int PROTOCOL_ICMP = 1;
    public static final int PROTOCOL_TCP = 6;
    public static final int PROTOCOL_UDP = 17;

    /** ICMP fields, relative to the start of the ICMP message. */
    public static final int ICMP_TYPE = 0;
    public static final int ICMP_CODE = 1;
    public static final int ICMP_CHECKSUM = 2;
    public static final int ICMP_ID = 4;
    public static final int ICMP_SEQ = 6;
    public static final int ICMP_HEADER_LENGTH = 8;
    public static final int ICMP_ECHO_REPLY = 0;
    public static final int ICMP_ECHO_REQUEST = 8;

    /** UDP fields, relative to the start of the UDP header. */
    public static final int UDP_SRC_PORT = 0;
    public static final int UDP_DST_PORT = 2;
    public static final int UDP_LENGTH = 4;
    public static final int UDP_CHECKSUM = 6;
    public static final int UDP_HEADER_LENGTH = 8;

    public static final long BROADCAST_MAC = 0xFFFF_FFFF_FFFFL;

    private FrameDescriptor()
    {
    }
}
