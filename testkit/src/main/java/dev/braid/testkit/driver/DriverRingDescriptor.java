package dev.braid.testkit.driver;

/**
 * The ring layouts as the guest's driver sees them, written from the virtio 1.x specification
 * (split: 2.7, packed: 2.8) independently of the device-side constants, so that a test driving
 * the device through this model does not confirm the device against its own numbers. A unit test
 * cross-checks both sets. All fields are little-endian.
 */
public final class DriverRingDescriptor
{
    /** Both ring kinds allow at most 2^15 entries. */
    public static final int MAX_QUEUE_SIZE = 1 << 15;

    /** Every descriptor, split, packed or in an indirect table, is 16 bytes. */
    public static final int DESC_SIZE = 16;

    // ---------------------------------------------------------------- split: struct virtq_desc

    public static final int SPLIT_DESC_ADDR = 0;
    public static final int SPLIT_DESC_LEN = 8;
    public static final int SPLIT_DESC_FLAGS = 12;
    public static final int SPLIT_DESC_NEXT = 14;

    /** Descriptor flags, shared by both ring kinds. */
    public static final int F_NEXT = 1;
    public static final int F_WRITE = 2;
    public static final int F_INDIRECT = 4;

    // ---------------------------------------------------------------- split: struct virtq_avail

    public static final int AVAIL_FLAGS = 0;
    public static final int AVAIL_IDX = 2;
    public static final int AVAIL_RING = 4;
    public static final int AVAIL_ENTRY_SIZE = 2;
    public static final int AVAIL_F_NO_INTERRUPT = 1;

    // ---------------------------------------------------------------- split: struct virtq_used

    public static final int USED_FLAGS = 0;
    public static final int USED_IDX = 2;
    public static final int USED_RING = 4;
    public static final int USED_ENTRY_SIZE = 8;
    public static final int USED_ENTRY_ID = 0;
    public static final int USED_ENTRY_LEN = 4;
    public static final int USED_F_NO_NOTIFY = 1;

    public static final int SPLIT_DESC_ALIGN = 16;
    public static final int SPLIT_AVAIL_ALIGN = 2;
    public static final int SPLIT_USED_ALIGN = 4;

    // ---------------------------------------------------------------- packed: struct pvirtq_desc

    public static final int PACKED_DESC_ADDR = 0;
    public static final int PACKED_DESC_LEN = 8;
    public static final int PACKED_DESC_ID = 12;
    public static final int PACKED_DESC_FLAGS = 14;

    /** Driver's available bit and device's used bit of a packed descriptor. */
    public static final int PACKED_F_AVAIL = 1 << 7;
    public static final int PACKED_F_USED = 1 << 15;

    // ---------------------------------------------------------------- packed: struct pvirtq_event_suppress

    public static final int EVENT_OFF_WRAP = 0;
    public static final int EVENT_FLAGS = 2;
    public static final int EVENT_SIZE = 4;
    /** Bit 15 of off_wrap is the wrap counter; bits 0..14 the ring offset. */
    public static final int EVENT_WRAP_SHIFT = 15;
    public static final int EVENT_FLAGS_ENABLE = 0;
    public static final int EVENT_FLAGS_DISABLE = 1;
    public static final int EVENT_FLAGS_DESC = 2;

    public static final int PACKED_DESC_ALIGN = 16;
    public static final int PACKED_EVENT_ALIGN = 4;

    private DriverRingDescriptor()
    {
    }

    public static long splitAvailSize(final int queueSize)
    {
        // flags, idx, ring[queueSize], used_event
        return 2 + 2 + (long)AVAIL_ENTRY_SIZE * queueSize + 2;
    }

    public static long splitUsedSize(final int queueSize)
    {
        // flags, idx, ring[queueSize], avail_event
        return 2 + 2 + (long)USED_ENTRY_SIZE * queueSize + 2;
    }

    /** Offset of used_event inside the available ring. */
    public static long usedEventOffset(final int queueSize)
    {
        return AVAIL_RING + (long)AVAIL_ENTRY_SIZE * queueSize;
    }

    /** Offset of avail_event inside the used ring. */
    public static long availEventOffset(final int queueSize)
    {
        return USED_RING + (long)USED_ENTRY_SIZE * queueSize;
    }

    /**
     * The driver's reading of the EVENT_IDX rule: whether moving a 16-bit index from
     * {@code oldIdx} to {@code newIdx} passed {@code event}, that is whether event lies in
     * {@code [oldIdx, newIdx)} modulo 2^16.
     */
    public static boolean passed(final int event, final int newIdx, final int oldIdx)
    {
        final int sinceEvent = (newIdx - event - 1) & 0xFFFF;
        final int moved = (newIdx - oldIdx) & 0xFFFF;
        return sinceEvent < moved;
    }
}
