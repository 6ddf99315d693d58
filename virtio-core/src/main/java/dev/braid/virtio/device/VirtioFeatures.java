package dev.braid.virtio.device;

/**
 * Device-independent feature bits (virtio 1.x, "Reserved Feature Bits") and bit helpers.
 * Bits are numbered as in the spec; {@link #bit(int)} turns a number into a mask.
 */
public final class VirtioFeatures
{
    /** Legacy; kept to recognise it, never offered. */
    public static final int VIRTIO_F_ANY_LAYOUT = 27;
    public static final int VIRTIO_F_INDIRECT_DESC = 28;
    public static final int VIRTIO_F_EVENT_IDX = 29;
    public static final int VIRTIO_F_VERSION_1 = 32;
    public static final int VIRTIO_F_ACCESS_PLATFORM = 33;
    public static final int VIRTIO_F_RING_PACKED = 34;
    public static final int VIRTIO_F_IN_ORDER = 35;
    public static final int VIRTIO_F_ORDER_PLATFORM = 36;
    public static final int VIRTIO_F_SR_IOV = 37;
    public static final int VIRTIO_F_NOTIFICATION_DATA = 38;
    public static final int VIRTIO_F_NOTIF_CONFIG_DATA = 39;
    public static final int VIRTIO_F_RING_RESET = 40;
    public static final int VIRTIO_F_ADMIN_VQ = 41;

    /** Short aliases used in Braid code. */
    public static final int INDIRECT_DESC = VIRTIO_F_INDIRECT_DESC;
    public static final int EVENT_IDX = VIRTIO_F_EVENT_IDX;
    public static final int VERSION_1 = VIRTIO_F_VERSION_1;
    public static final int ACCESS_PLATFORM = VIRTIO_F_ACCESS_PLATFORM;
    public static final int RING_PACKED = VIRTIO_F_RING_PACKED;
    public static final int IN_ORDER = VIRTIO_F_IN_ORDER;
    public static final int NOTIFICATION_DATA = VIRTIO_F_NOTIFICATION_DATA;
    public static final int RING_RESET = VIRTIO_F_RING_RESET;

    /** Device-type bits live in 0..23; transport and ring bits in 24..41; the rest is reserved. */
    public static final int DEVICE_TYPE_BITS_END = 24;

    private VirtioFeatures()
    {
    }

    public static long bit(final int feature)
    {
        return 1L << feature;
    }

    public static boolean has(final long features, final int feature)
    {
        return (features & (1L << feature)) != 0;
    }

    /** Mask of the given bit numbers. */
    public static long mask(final int... features)
    {
        long mask = 0;
        for (final int feature : features)
        {
            mask |= 1L << feature;
        }
        return mask;
    }

    /** The 32-bit half {@code select} (0 = bits 0..31, 1 = bits 32..63) as a transport exposes it; 0 beyond. */
    public static int word(final long features, final int select)
    {
        if (select == 0)
        {
            return (int)features;
        }
        if (select == 1)
        {
            return (int)(features >>> 32);
        }
        return 0;
    }

    /** {@code features} with half {@code select} replaced by {@code value}; unchanged for other selects. */
    public static long withWord(final long features, final int select, final int value)
    {
        if (select == 0)
        {
            return (features & 0xFFFF_FFFF_0000_0000L) | (value & 0xFFFF_FFFFL);
        }
        if (select == 1)
        {
            return (features & 0x0000_0000_FFFF_FFFFL) | ((long)value << 32);
        }
        return features;
    }

    /** Bit numbers as "28,29,32" for diagnostics (allocates; not for the hot path). */
    public static String toString(final long features)
    {
        final StringBuilder sb = new StringBuilder();
        long rest = features;
        while (rest != 0)
        {
            final int b = Long.numberOfTrailingZeros(rest);
            if (sb.length() > 0)
            {
                sb.append(',');
            }
            sb.append(b);
            rest &= rest - 1;
        }
        return sb.toString();
    }
}
