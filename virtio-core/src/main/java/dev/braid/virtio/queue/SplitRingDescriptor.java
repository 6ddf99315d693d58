package dev.braid.virtio.queue;

/**
 * Layout of the split virtqueue (virtio 1.x, 2.7): descriptor table, available ring, used ring.
 * All fields are little-endian.
 */
public final class SplitRingDescriptor
{
    /** Largest queue size a split ring may have; sizes are powers of two. */
    public static final int MAX_QUEUE_SIZE = 32768;

    /** One descriptor: le64 addr, le32 len, le16 flags, le16 next. */
    public static final int DESCRIPTOR_LENGTH = 16;
    public static final int DESC_ADDR_OFFSET = 0;
    public static final int DESC_LEN_OFFSET = 8;
    public static final int DESC_FLAGS_OFFSET = 12;
    public static final int DESC_NEXT_OFFSET = 14;

    /** Descriptor flags. */
    public static final short VIRTQ_DESC_F_NEXT = 1;
    public static final short VIRTQ_DESC_F_WRITE = 2;
    public static final short VIRTQ_DESC_F_INDIRECT = 4;

    /** Available ring: le16 flags, le16 idx, le16 ring[size], le16 used_event. */
    public static final int AVAIL_FLAGS_OFFSET = 0;
    public static final int AVAIL_IDX_OFFSET = 2;
    public static final int AVAIL_RING_OFFSET = 4;
    public static final int AVAIL_ELEMENT_LENGTH = 2;
    public static final short VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

    /** Used ring: le16 flags, le16 idx, {le32 id, le32 len}[size], le16 avail_event. */
    public static final int USED_FLAGS_OFFSET = 0;
    public static final int USED_IDX_OFFSET = 2;
    public static final int USED_RING_OFFSET = 4;
    public static final int USED_ELEMENT_LENGTH = 8;
    public static final int USED_ELEMENT_ID_OFFSET = 0;
    public static final int USED_ELEMENT_LEN_OFFSET = 4;
    public static final short VIRTQ_USED_F_NO_NOTIFY = 1;

    /** Required alignments of the three areas. */
    public static final int DESC_TABLE_ALIGNMENT = 16;
    public static final int AVAIL_ALIGNMENT = 2;
    public static final int USED_ALIGNMENT = 4;

    private SplitRingDescriptor()
    {
    }

    public static long descriptorTableLength(final int queueSize)
    {
        return (long)DESCRIPTOR_LENGTH * queueSize;
    }

    /** Bytes of the available ring, used_event included. */
    public static long availRingLength(final int queueSize)
    {
        return AVAIL_RING_OFFSET + (long)AVAIL_ELEMENT_LENGTH * queueSize + 2;
    }

    /** Bytes of the used ring, avail_event included. */
    public static long usedRingLength(final int queueSize)
    {
        return USED_RING_OFFSET + (long)USED_ELEMENT_LENGTH * queueSize + 2;
    }

    public static long usedEventOffset(final int queueSize)
    {
        return AVAIL_RING_OFFSET + (long)AVAIL_ELEMENT_LENGTH * queueSize;
    }

    public static long availEventOffset(final int queueSize)
    {
        return USED_RING_OFFSET + (long)USED_ELEMENT_LENGTH * queueSize;
    }

    /**
     * The EVENT_IDX test (virtio 2.7.10): whether moving an index from {@code oldIdx} to
     * {@code newIdx} crossed {@code eventIdx}. All arithmetic is modulo 2^16.
     */
    public static boolean needEvent(final int eventIdx, final int newIdx, final int oldIdx)
    {
        return ((newIdx - eventIdx - 1) & 0xFFFF) < ((newIdx - oldIdx) & 0xFFFF);
    }
}
