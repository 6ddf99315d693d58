package dev.braid.virtio.device;

import static dev.braid.virtio.device.VirtioFeatures.bit;

/**
 * Feature negotiation between the device (which offers) and the driver (which acknowledges a
 * subset). The transport reads and writes 64-bit feature sets in 32-bit halves through a select
 * register, as virtio-pci's device_feature_select / driver_feature_select do.
 *
 * <p>{@link #validate()} decides whether FEATURES_OK may stick: VERSION_1 must be acked (Braid is a
 * modern-only device), no unoffered bit may be acked, and every declared dependency (for example
 * net MQ needs CTRL_VQ) must hold. Once {@link #lock() locked} by FEATURES_OK, driver writes are
 * ignored until reset, as the spec forbids changing features after that point.
 *
 * <p>Not thread-safe: the transport serialises configuration accesses.
 */
public final class FeatureNegotiation
{
    /** {@link #validate()} results. */
    public static final int OK = 0;
    public static final int MISSING_VERSION_1 = 1;
    public static final int UNOFFERED_FEATURE = 2;
    public static final int MISSING_DEPENDENCY = 3;

    private static final int MAX_DEPENDENCIES = 64;

    private final long offered;
    private final int[] dependents = new int[MAX_DEPENDENCIES];
    private final int[] requirements = new int[MAX_DEPENDENCIES];
    private int dependencyCount;

    private long acked;
    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private boolean locked;

    private FeatureNegotiation(final long offered)
    {
        this.offered = offered;
    }

    /**
     * The ring features every Braid device offers: VERSION_1, RING_PACKED, EVENT_IDX and
     * INDIRECT_DESC; IN_ORDER and RING_RESET only when the device supports them, because both
     * constrain how completions and queue resets must be handled.
     */
    public static long standardFeatures(final boolean supportsInOrder, final boolean supportsRingReset)
    {
        long features = bit(VirtioFeatures.VERSION_1) | bit(VirtioFeatures.RING_PACKED) |
            bit(VirtioFeatures.EVENT_IDX) | bit(VirtioFeatures.INDIRECT_DESC);
        if (supportsInOrder)
        {
            features |= bit(VirtioFeatures.IN_ORDER);
        }
        if (supportsRingReset)
        {
            features |= bit(VirtioFeatures.RING_RESET);
        }
        return features;
    }

    /** Offers the device-type bits plus {@link #standardFeatures}. */
    public static FeatureNegotiation offer(
        final long deviceTypeFeatures, final boolean supportsInOrder, final boolean supportsRingReset)
    {
        return new FeatureNegotiation(deviceTypeFeatures | standardFeatures(supportsInOrder, supportsRingReset));
    }

    /** Offers exactly {@code features}, nothing added. */
    public static FeatureNegotiation offerExactly(final long features)
    {
        return new FeatureNegotiation(features);
    }

    /** Declares that acking {@code feature} requires acking {@code required} too. Setup only. */
    public FeatureNegotiation requires(final int feature, final int required)
    {
        if (dependencyCount == MAX_DEPENDENCIES)
        {
            throw new IllegalStateException("too many feature dependencies");
        }
        dependents[dependencyCount] = feature;
        requirements[dependencyCount] = required;
        dependencyCount++;
        return this;
    }

    public long offered()
    {
        return offered;
    }

    public boolean isOffered(final int feature)
    {
        return VirtioFeatures.has(offered, feature);
    }

    /** What the driver acked so far (after validation and lock: the negotiated set). */
    public long acked()
    {
        return acked;
    }

    /** Whether {@code feature} is acked; meaningful as "negotiated" once locked. */
    public boolean isNegotiated(final int feature)
    {
        return VirtioFeatures.has(acked, feature);
    }

    public boolean isLocked()
    {
        return locked;
    }

    // ---------------------------------------------------------------- transport registers

    public void deviceFeatureSelect(final int select)
    {
        deviceFeatureSelect = select;
    }

    public int deviceFeatureSelect()
    {
        return deviceFeatureSelect;
    }

    /** The selected 32-bit half of the offered set; 0 for selects beyond 1. */
    public int deviceFeatures()
    {
        return VirtioFeatures.word(offered, deviceFeatureSelect);
    }

    public void driverFeatureSelect(final int select)
    {
        driverFeatureSelect = select;
    }

    public int driverFeatureSelect()
    {
        return driverFeatureSelect;
    }

    /** The selected half of what the driver acked. */
    public int driverFeatures()
    {
        return VirtioFeatures.word(acked, driverFeatureSelect);
    }

    /**
     * The driver writes the selected half of its acked set. Ignored after FEATURES_OK locked the
     * set, and for selects beyond 1. Unoffered bits are stored as written so that
     * {@link #validate()} can refuse them: a device must not silently drop them.
     *
     * @return whether the write was applied.
     */
    public boolean driverFeatures(final int value)
    {
        if (locked || driverFeatureSelect < 0 || driverFeatureSelect > 1)
        {
            return false;
        }
        acked = VirtioFeatures.withWord(acked, driverFeatureSelect, value);
        return true;
    }

    /** Sets the whole acked set at once (vhost-user SET_FEATURES style); ignored once locked. */
    public boolean ackFeatures(final long features)
    {
        if (locked)
        {
            return false;
        }
        acked = features;
        return true;
    }

    // ---------------------------------------------------------------- validation

    /** Checks the acked set; {@link #OK} means FEATURES_OK may be accepted. */
    public int validate()
    {
        if (!VirtioFeatures.has(acked, VirtioFeatures.VERSION_1))
        {
            return MISSING_VERSION_1;
        }
        if ((acked & ~offered) != 0)
        {
            return UNOFFERED_FEATURE;
        }
        for (int i = 0; i < dependencyCount; i++)
        {
            if (VirtioFeatures.has(acked, dependents[i]) && !VirtioFeatures.has(acked, requirements[i]))
            {
                return MISSING_DEPENDENCY;
            }
        }
        return OK;
    }

    /** Validates and, when valid, locks the set. Returns the {@link #validate()} result. */
    public int lock()
    {
        final int result = validate();
        if (result == OK)
        {
            locked = true;
        }
        return result;
    }

    /** Device reset: nothing acked, selects back to 0, unlocked. */
    public void reset()
    {
        acked = 0;
        deviceFeatureSelect = 0;
        driverFeatureSelect = 0;
        locked = false;
    }

    public static String describe(final int result)
    {
        switch (result)
        {
            case OK: return "ok";
            case MISSING_VERSION_1: return "VERSION_1 not acked";
            case UNOFFERED_FEATURE: return "acked a feature the device did not offer";
            case MISSING_DEPENDENCY: return "acked a feature without the feature it depends on";
            default: return "unknown result " + result;
        }
    }
}
