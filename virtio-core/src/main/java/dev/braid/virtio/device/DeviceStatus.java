package dev.braid.virtio.device;

/**
 * The device status register and its state machine (virtio 1.x, "Device Status Field").
 *
 * <p>The driver sets bits in order: ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK. A driver write
 * never throws; it has a defined outcome:
 * <ul>
 *   <li>0 resets the device ({@link #write} returns {@link #RESET}; the owner resets the rest).</li>
 *   <li>A write that clears a bit the driver set earlier is ignored: the spec forbids clearing bits
 *       other than by reset, and ignoring it keeps the state coherent. Status is unchanged.</li>
 *   <li>A new bit whose predecessor is missing (after this write) is dropped; the others stick.
 *       FEATURES_OK is dropped when the feature set does not validate, so the driver reading status
 *       back sees it missing, as the spec prescribes.</li>
 *   <li>DEVICE_NEEDS_RESET belongs to the device: the driver's copy of that bit is ignored.
 *       FAILED may be set by the driver at any time and then sticks until reset.</li>
 *   <li>Undefined bits (16, 32) are ignored.</li>
 * </ul>
 */
public final class DeviceStatus
{
    public static final int ACKNOWLEDGE = 1;
    public static final int DRIVER = 2;
    public static final int DRIVER_OK = 4;
    public static final int FEATURES_OK = 8;
    public static final int DEVICE_NEEDS_RESET = 64;
    public static final int FAILED = 128;

    /** The bits a driver may set. */
    public static final int DRIVER_BITS = ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK | FAILED;

    /** {@link #write} outcomes. */
    public static final int APPLIED = 0;
    public static final int RESET = 1;
    /** Some requested bits were dropped (order, refused features, undefined bits). */
    public static final int PARTIAL = 2;
    /** The write tried to clear bits; nothing changed. */
    public static final int IGNORED = 3;

    private int status;

    public int get()
    {
        return status;
    }

    public boolean has(final int bits)
    {
        return (status & bits) == bits;
    }

    /** DRIVER_OK set and neither FAILED nor NEEDS_RESET: the device may process queues. */
    public boolean isLive()
    {
        return (status & (DRIVER_OK | FAILED | DEVICE_NEEDS_RESET)) == DRIVER_OK;
    }

    /**
     * A driver write of {@code value}. {@code features} is consulted (and locked) when FEATURES_OK
     * is newly requested. Returns one of {@link #APPLIED}, {@link #RESET}, {@link #PARTIAL},
     * {@link #IGNORED}; after {@link #RESET} the caller must reset queues and features.
     */
    public int write(final int value, final FeatureNegotiation features)
    {
        final int requested = value & 0xFF;
        if (requested == 0)
        {
            status = 0;
            return RESET;
        }
        final int driverOwned = status & DRIVER_BITS;
        final int asked = requested & DRIVER_BITS;
        if ((asked & driverOwned) != driverOwned)
        {
            return IGNORED;
        }

        int next = driverOwned;
        final int added = asked & ~driverOwned;
        if (((driverOwned | added) & FAILED) != 0)
        {
            // A driver that gave up makes no more progress: only FAILED itself is taken.
            status = driverOwned | FAILED | (status & DEVICE_NEEDS_RESET);
            return (requested & ~DEVICE_NEEDS_RESET & ~status) == 0 ? APPLIED : PARTIAL;
        }
        if ((added & ACKNOWLEDGE) != 0)
        {
            next |= ACKNOWLEDGE;
        }
        if ((added & DRIVER) != 0 && (next & ACKNOWLEDGE) != 0)
        {
            next |= DRIVER;
        }
        if ((added & FEATURES_OK) != 0 && (next & DRIVER) != 0 && features.lock() == FeatureNegotiation.OK)
        {
            next |= FEATURES_OK;
        }
        if ((added & DRIVER_OK) != 0 && (next & FEATURES_OK) != 0)
        {
            next |= DRIVER_OK;
        }

        status = next | (status & DEVICE_NEEDS_RESET);
        final int ignoredBits = requested & ~DEVICE_NEEDS_RESET & ~(status | driverOwned);
        return ignoredBits == 0 ? APPLIED : PARTIAL;
    }

    /**
     * The device found an error it cannot recover from without a reset (a broken ring). Returns
     * whether the bit was newly set; then, if DRIVER_OK is set, the transport should raise a
     * configuration-change interrupt. A device in reset (status 0) has nothing to flag.
     */
    public boolean needsReset()
    {
        if (status == 0 || (status & DEVICE_NEEDS_RESET) != 0)
        {
            return false;
        }
        status |= DEVICE_NEEDS_RESET;
        return true;
    }

    /** Device-side reset. */
    public void reset()
    {
        status = 0;
    }

    public static String toString(final int status)
    {
        final StringBuilder sb = new StringBuilder();
        append(sb, status, ACKNOWLEDGE, "ACKNOWLEDGE");
        append(sb, status, DRIVER, "DRIVER");
        append(sb, status, FEATURES_OK, "FEATURES_OK");
        append(sb, status, DRIVER_OK, "DRIVER_OK");
        append(sb, status, DEVICE_NEEDS_RESET, "DEVICE_NEEDS_RESET");
        append(sb, status, FAILED, "FAILED");
        return sb.length() == 0 ? "0" : sb.toString();
    }

    private static void append(final StringBuilder sb, final int status, final int bit, final String name)
    {
        if ((status & bit) != 0)
        {
            if (sb.length() > 0)
            {
                sb.append('|');
            }
            sb.append(name);
        }
    }

    public String toString()
    {
        return toString(status);
    }
}
