package dev.braid.virtio.net;

/** Byte layouts of the virtio-net structures; multi-byte fields little-endian. */
public final class NetDescriptor
{
    // struct virtio_net_hdr_v1 (VERSION_1: num_buffers is always present).
    public static final int HDR_FLAGS_OFFSET = 0;
    public static final int HDR_GSO_TYPE_OFFSET = 1;
    public static final int HDR_HDR_LEN_OFFSET = 2;
    public static final int HDR_GSO_SIZE_OFFSET = 4;
    public static final int HDR_CSUM_START_OFFSET = 6;
    public static final int HDR_CSUM_OFFSET_OFFSET = 8;
    public static final int HDR_NUM_BUFFERS_OFFSET = 10;
    public static final int HDR_LENGTH = 12;

    // struct virtio_net_ctrl: u8 class, u8 command, data..., then the device-writable u8 ack.
    public static final int CTRL_CLASS_OFFSET = 0;
    public static final int CTRL_COMMAND_OFFSET = 1;
    public static final int CTRL_HEADER_LENGTH = 2;
    public static final int CTRL_ACK_LENGTH = 1;

    /** struct virtio_net_ctrl_mac: le32 entries, then entries * 6 bytes. Sent twice (unicast, multicast). */
    public static final int MAC_TABLE_ENTRIES_LENGTH = 4;
    /** struct virtio_net_ctrl_mq: le16 virtqueue_pairs. */
    public static final int MQ_PAIRS_LENGTH = 2;
    /** VLAN commands: le16 vid. */
    public static final int VLAN_ID_LENGTH = 2;
    /** GUEST_OFFLOADS_SET: le64 offloads. */
    public static final int OFFLOADS_LENGTH = 8;
    /** RX mode commands: u8 on/off. */
    public static final int RX_MODE_LENGTH = 1;

    // struct virtio_net_config.
    public static final int CFG_MAC_OFFSET = 0;
    public static final int CFG_STATUS_OFFSET = 6;
    public static final int CFG_MAX_VIRTQUEUE_PAIRS_OFFSET = 8;
    public static final int CFG_MTU_OFFSET = 10;
    public static final int CFG_SPEED_OFFSET = 12;
    public static final int CFG_DUPLEX_OFFSET = 16;
    public static final int CFG_RSS_MAX_KEY_SIZE_OFFSET = 17;
    public static final int CFG_RSS_MAX_INDIRECTION_TABLE_LENGTH_OFFSET = 18;
    public static final int CFG_SUPPORTED_HASH_TYPES_OFFSET = 20;
    public static final int CFG_LENGTH = 24;

    private NetDescriptor()
    {
    }
}
