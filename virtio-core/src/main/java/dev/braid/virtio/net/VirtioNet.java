package dev.braid.virtio.net;

/** virtio-net constants (virtio 1.x, "Network Device"), named as in the spec. */
public final class VirtioNet
{
    public static final int VIRTIO_ID_NET = 1;

    // Feature bits.
    public static final int VIRTIO_NET_F_CSUM = 0;
    public static final int VIRTIO_NET_F_GUEST_CSUM = 1;
    public static final int VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
    public static final int VIRTIO_NET_F_MTU = 3;
    public static final int VIRTIO_NET_F_MAC = 5;
    public static final int VIRTIO_NET_F_GUEST_TSO4 = 7;
    public static final int VIRTIO_NET_F_GUEST_TSO6 = 8;
    public static final int VIRTIO_NET_F_GUEST_ECN = 9;
    public static final int VIRTIO_NET_F_GUEST_UFO = 10;
    public static final int VIRTIO_NET_F_HOST_TSO4 = 11;
    public static final int VIRTIO_NET_F_HOST_TSO6 = 12;
    public static final int VIRTIO_NET_F_HOST_ECN = 13;
    public static final int VIRTIO_NET_F_HOST_UFO = 14;
    public static final int VIRTIO_NET_F_MRG_RXBUF = 15;
    public static final int VIRTIO_NET_F_STATUS = 16;
    public static final int VIRTIO_NET_F_CTRL_VQ = 17;
    public static final int VIRTIO_NET_F_CTRL_RX = 18;
    public static final int VIRTIO_NET_F_CTRL_VLAN = 19;
    public static final int VIRTIO_NET_F_CTRL_RX_EXTRA = 20;
    public static final int VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
    public static final int VIRTIO_NET_F_MQ = 22;
    public static final int VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
    public static final int VIRTIO_NET_F_HOST_USO = 56;
    public static final int VIRTIO_NET_F_HASH_REPORT = 57;
    public static final int VIRTIO_NET_F_GUEST_HDRLEN = 59;
    public static final int VIRTIO_NET_F_RSS = 60;
    public static final int VIRTIO_NET_F_RSC_EXT = 61;
    public static final int VIRTIO_NET_F_STANDBY = 62;
    public static final int VIRTIO_NET_F_SPEED_DUPLEX = 63;

    // Config status bits.
    public static final int VIRTIO_NET_S_LINK_UP = 1;
    public static final int VIRTIO_NET_S_ANNOUNCE = 2;

    // virtio_net_hdr flags.
    public static final int VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
    public static final int VIRTIO_NET_HDR_F_DATA_VALID = 2;
    public static final int VIRTIO_NET_HDR_F_RSC_INFO = 4;

    // virtio_net_hdr gso_type.
    public static final int VIRTIO_NET_HDR_GSO_NONE = 0;
    public static final int VIRTIO_NET_HDR_GSO_TCPV4 = 1;
    public static final int VIRTIO_NET_HDR_GSO_UDP = 3;
    public static final int VIRTIO_NET_HDR_GSO_TCPV6 = 4;
    public static final int VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
    public static final int VIRTIO_NET_HDR_GSO_ECN = 0x80;

    // Control queue acks.
    public static final int VIRTIO_NET_OK = 0;
    public static final int VIRTIO_NET_ERR = 1;

    // Control classes and commands.
    public static final int VIRTIO_NET_CTRL_RX = 0;
    public static final int VIRTIO_NET_CTRL_RX_PROMISC = 0;
    public static final int VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
    public static final int VIRTIO_NET_CTRL_RX_ALLUNI = 2;
    public static final int VIRTIO_NET_CTRL_RX_NOMULTI = 3;
    public static final int VIRTIO_NET_CTRL_RX_NOUNI = 4;
    public static final int VIRTIO_NET_CTRL_RX_NOBCAST = 5;

    public static final int VIRTIO_NET_CTRL_MAC = 1;
    public static final int VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;
    public static final int VIRTIO_NET_CTRL_MAC_ADDR_SET = 1;

    public static final int VIRTIO_NET_CTRL_VLAN = 2;
    public static final int VIRTIO_NET_CTRL_VLAN_ADD = 0;
    public static final int VIRTIO_NET_CTRL_VLAN_DEL = 1;

    public static final int VIRTIO_NET_CTRL_ANNOUNCE = 3;
    public static final int VIRTIO_NET_CTRL_ANNOUNCE_ACK = 0;

    public static final int VIRTIO_NET_CTRL_MQ = 4;
    public static final int VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET = 0;
    public static final int VIRTIO_NET_CTRL_MQ_RSS_CONFIG = 1;
    public static final int VIRTIO_NET_CTRL_MQ_HASH_CONFIG = 2;
    public static final int VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN = 1;
    public static final int VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX = 0x8000;

    public static final int VIRTIO_NET_CTRL_GUEST_OFFLOADS = 5;
    public static final int VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET = 0;

    /** Ethernet header and one 802.1Q tag: what a frame may carry beyond the MTU. */
    public static final int ETH_HLEN = 14;
    public static final int VLAN_HLEN = 4;
    public static final int ETH_ALEN = 6;
    /** Largest GSO frame: the 64 KiB IP datagram limit plus link headers. */
    public static final int MAX_GSO_FRAME = 65535 + ETH_HLEN + VLAN_HLEN;
    /** Default MTU when VIRTIO_NET_F_MTU is not offered. */
    public static final int DEFAULT_MTU = 1500;

    private VirtioNet()
    {
    }
}
