package dev.braid.mapper;

/**
 * Offsets and values of the Ethernet, IPv4, IPv6 and L4 headers that {@link FlowHash} reads.
 * All multi-byte fields are big-endian (network order).
 */
final class FrameDescriptor
{
    static final int ETH_HEADER_LENGTH = 14;
    static final int ETH_TYPE_OFFSET = 12;
    static final int ETH_MACS_LENGTH = 12;
    static final int VLAN_TAG_LENGTH = 4;
    static final int MAX_VLAN_TAGS = 2;

    static final int ETH_TYPE_IPV4 = 0x0800;
    static final int ETH_TYPE_IPV6 = 0x86DD;
    static final int ETH_TYPE_VLAN = 0x8100;
    static final int ETH_TYPE_QINQ = 0x88A8;

    static final int IPV4_MIN_HEADER_LENGTH = 20;
    static final int IPV4_FRAGMENT_OFFSET = 6;
    static final int IPV4_MORE_FRAGMENTS_AND_OFFSET_MASK = 0x3FFF;
    static final int IPV4_PROTOCOL_OFFSET = 9;
    static final int IPV4_SOURCE_OFFSET = 12;
    static final int IPV4_DESTINATION_OFFSET = 16;

    static final int IPV6_HEADER_LENGTH = 40;
    static final int IPV6_NEXT_HEADER_OFFSET = 6;
    static final int IPV6_SOURCE_OFFSET = 8;
    static final int IPV6_DESTINATION_OFFSET = 24;
    static final int IPV6_ADDRESS_LENGTH = 16;
    /** Extension headers followed before giving up on the ports; bounds the walk. */
    static final int IPV6_MAX_EXTENSION_HEADERS = 8;

    static final int IPPROTO_HOPOPTS = 0;
    static final int IPPROTO_TCP = 6;
    static final int IPPROTO_UDP = 17;
    static final int IPPROTO_ROUTING = 43;
    static final int IPPROTO_FRAGMENT = 44;
    static final int IPPROTO_AH = 51;
    static final int IPPROTO_DSTOPTS = 60;
    static final int IPPROTO_SCTP = 132;
    static final int IPPROTO_UDPLITE = 136;

    static final int IPV6_FRAGMENT_HEADER_LENGTH = 8;
    /** Source and destination port, the first four bytes of TCP, UDP, UDP-Lite and SCTP headers. */
    static final int L4_PORTS_LENGTH = 4;

    private FrameDescriptor()
    {
    }
}
