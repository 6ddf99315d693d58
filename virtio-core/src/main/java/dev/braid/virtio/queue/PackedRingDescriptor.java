package dev.braid.virtio.queue;

/**
 * Layout of the packed virtqueue (virtio 1.x, 2.8): one descriptor ring plus the driver and device
 * event suppression structures. All fields are little-endian.
 */
public final class PackedRingDescriptor
{
    /** Largest packed queue size; packed sizes need not be powers of two. */
    public static final int MAX_QUEUE_SIZE = 32768;

    /** One descriptor: le64 addr, le32 len, le16 id, le16 flags. */
    public static final int DESCRIPTOR_LENGTH = 16;
    public static final int DESC_ADDR_OFFSET = 0;
    public static final int DESC_LEN_OFFSET = 8;
    public static final int DESC_ID_OFFSET = 12;
    public static final int DESC_FLAGS_OFFSET = 14;

    public static final short VIRTQ_DESC_F_NEXT = 1;
    public static final short VIRTQ_DESC_F_WRITE = 2;
    public static final short VIRTQ_DESC_F_INDIRECT = 4;
    /** Bit 7: the driver's avail flag. */
    public static final short VIRTQ_DESC_F_AVAIL = 1 << 7;
    /** Bit 15: the device's used flag. */
    public static final short VIRTQ_DESC_F_USED = (short)(1 << 15);

    /** Event suppression structure: le16 desc (offset 0..14 plus wrap bit 15), le16 flags. */
    public static final int EVENT_OFF_WRAP_OFFSET = 0;
    public static final int EVENT_FLAGS_OFFSET = 2;
    public static final int EVENT_STRUCTURE_LENGTH = 4;
    public static final short RING_EVENT_FLAGS_ENABLE = 0;
    public static final short RING_EVENT_FLAGS_DISABLE = 1;
    public static final short RING_EVENT_FLAGS_DESC = 2;

    public static final int DESC_RING_ALIGNMENT = 16;
    public static final int EVENT_ALIGNMENT = 4;

    private PackedRingDescriptor()
    {
    }

    public static long descriptorRingLength(final int queueSize)
    {
        return (long)DESCRIPTOR_LENGTH * queueSize;
    }
}
