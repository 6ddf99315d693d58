package dev.braid.vhostuser;

/**
 * Byte layouts of vhost-user messages (QEMU docs/interop/vhost-user.rst; Linux
 * include/uapi/linux/vhost_types.h for the memory and ring structures). All fields are in the
 * host's byte order, which vhost-user shares between both ends of the socket: little-endian here.
 */
public final class VhostUserDescriptor
{
    // Header: u32 request, u32 flags, u32 size (of the payload that follows).
    public static final int HEADER_REQUEST_OFFSET = 0;
    public static final int HEADER_FLAGS_OFFSET = 4;
    public static final int HEADER_SIZE_OFFSET = 8;
    public static final int HEADER_LENGTH = 12;

    /** Bits 0-1 of flags: the protocol version, always 1. */
    public static final int FLAGS_VERSION_MASK = 0x3;
    public static final int FLAGS_VERSION = 0x1;
    public static final int FLAGS_REPLY = 0x4;
    public static final int FLAGS_NEED_REPLY = 0x8;

    // A u64 payload (features, protocol features, queue num, slots, REPLY_ACK status, fd index).
    public static final int U64_LENGTH = 8;

    // struct vhost_vring_state: u32 index, u32 num.
    public static final int STATE_INDEX_OFFSET = 0;
    public static final int STATE_NUM_OFFSET = 4;
    public static final int STATE_LENGTH = 8;

    // struct vhost_vring_addr: u32 index, u32 flags, u64 desc, u64 used, u64 avail, u64 log (user addresses).
    public static final int ADDR_INDEX_OFFSET = 0;
    public static final int ADDR_FLAGS_OFFSET = 4;
    public static final int ADDR_DESC_OFFSET = 8;
    public static final int ADDR_USED_OFFSET = 16;
    public static final int ADDR_AVAIL_OFFSET = 24;
    public static final int ADDR_LOG_OFFSET = 32;
    public static final int ADDR_LENGTH = 40;
    /** VHOST_VRING_F_LOG: log used-ring writes (migration); not offered here. */
    public static final int ADDR_FLAG_LOG = 0x1;

    // Memory region: u64 guest_phys_addr, u64 memory_size, u64 userspace_addr, u64 mmap_offset.
    public static final int REGION_GPA_OFFSET = 0;
    public static final int REGION_SIZE_OFFSET = 8;
    public static final int REGION_UVA_OFFSET = 16;
    public static final int REGION_MMAP_OFFSET_OFFSET = 24;
    public static final int REGION_LENGTH = 32;

    // SET_MEM_TABLE: u32 nregions, u32 padding, then nregions regions.
    public static final int TABLE_COUNT_OFFSET = 0;
    public static final int TABLE_REGIONS_OFFSET = 8;
    /** VHOST_MEMORY_BASELINE_NREGIONS: what SET_MEM_TABLE can carry. */
    public static final int TABLE_MAX_REGIONS = 8;

    // ADD_MEM_REG / REM_MEM_REG: u64 padding, then one region.
    public static final int SINGLE_REGION_OFFSET = 8;
    public static final int SINGLE_REGION_LENGTH = 8 + REGION_LENGTH;

    // Device config space: u32 offset, u32 size, u32 flags, then up to 256 bytes.
    public static final int CONFIG_OFFSET_OFFSET = 0;
    public static final int CONFIG_SIZE_OFFSET = 4;
    public static final int CONFIG_FLAGS_OFFSET = 8;
    public static final int CONFIG_PAYLOAD_OFFSET = 12;
    public static final int CONFIG_MAX_PAYLOAD = 256;
    /** Cloud Hypervisor addresses config space at the virtio-pci device-config offset. */
    public static final int CONFIG_PCI_OFFSET = 0x100;

    // SET_VRING_KICK/CALL/ERR u64: bits 0-7 the ring index, bit 8 "no fd" (polling / no notification).
    public static final long VRING_INDEX_MASK = 0xFF;
    public static final long VRING_NOFD_MASK = 0x100;

    /** The largest payload any accepted request carries (GET/SET_CONFIG with 256 bytes). */
    public static final int MAX_PAYLOAD = CONFIG_PAYLOAD_OFFSET + CONFIG_MAX_PAYLOAD;
    /** The most fds one message may carry (QEMU's VHOST_MEMORY_BASELINE_NREGIONS). */
    public static final int MAX_FDS = 8;

    // Virtio feature bit 30, reused by vhost-user.
    public static final int F_PROTOCOL_FEATURES = 30;

    // Protocol feature bits.
    public static final int PROTOCOL_F_MQ = 0;
    public static final int PROTOCOL_F_LOG_SHMFD = 1;
    public static final int PROTOCOL_F_RARP = 2;
    public static final int PROTOCOL_F_REPLY_ACK = 3;
    public static final int PROTOCOL_F_MTU = 4;
    public static final int PROTOCOL_F_SLAVE_REQ = 5;
    public static final int PROTOCOL_F_CONFIG = 9;
    public static final int PROTOCOL_F_INFLIGHT_SHMFD = 12;
    public static final int PROTOCOL_F_RESET_DEVICE = 13;
    public static final int PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15;

    /** What this back end implements, and so offers: nothing more. */
    public static final long PROTOCOL_FEATURES_OFFERED = (1L << PROTOCOL_F_MQ) | (1L << PROTOCOL_F_REPLY_ACK) |
        (1L << PROTOCOL_F_CONFIG) | (1L << PROTOCOL_F_CONFIGURE_MEM_SLOTS) | (1L << PROTOCOL_F_RESET_DEVICE);

    private VhostUserDescriptor()
    {
    }
}
