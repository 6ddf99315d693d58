package dev.braid.virtio.device;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static dev.braid.virtio.device.DeviceStatus.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceStatusTest
{
    private static FeatureNegotiation valid()
    {
        final FeatureNegotiation features = FeatureNegotiation.offer(0, false, false);
        features.ackFeatures(VirtioFeatures.bit(VirtioFeatures.VERSION_1));
        return features;
    }

    private static FeatureNegotiation invalid()
    {
        return FeatureNegotiation.offer(0, false, false);
    }

    /**
     * from, written, features valid, expected status, expected outcome. A = 1, D = 2, DOK = 4,
     * FOK = 8, NR = 64, F = 128.
     */
    @ParameterizedTest(name = "{0} + write {1} (features valid {2}) -> {3}")
    @CsvSource({
        // the normal sequence, one bit at a time and all at once
        "0,   1,   true,  1,   0",
        "1,   3,   true,  3,   0",
        "3,   11,  true,  11,  0",
        "11,  15,  true,  15,  0",
        "0,   15,  true,  15,  0",
        // out of order: the bit without its predecessor is dropped
        "0,   2,   true,  0,   2",
        "1,   9,   true,  1,   2",
        "3,   7,   true,  3,   2",
        "0,   4,   true,  0,   2",
        // FEATURES_OK refused by validation, so DRIVER_OK cannot follow
        "3,   11,  false, 3,   2",
        "3,   15,  false, 3,   2",
        // clearing a bit without reset is ignored
        "15,  11,  true,  15,  3",
        "3,   1,   true,  3,   3",
        "11,  9,   true,  11,  3",
        // reset
        "15,  0,   true,  0,   1",
        "143, 0,   true,  0,   1",
        // FAILED may be set at any time and keeps what is there
        "3,   131, true,  131, 0",
        "0,   128, true,  128, 0",
        "15,  143, true,  143, 0",
        "131, 139, true,  131, 2",
        "0,   129, true,  128, 2",
        "131, 131, true,  131, 0",
        "131, 3,   true,  131, 3",
        // the driver cannot set or clear NEEDS_RESET
        "0,   65,  true,  1,   0",
        "79,  15,  true,  79,  0",
        // undefined bits are dropped
        "0,   17,  true,  1,   2",
        "1,   33,  true,  1,   2",
        // rewriting the same value is fine
        "15,  15,  true,  15,  0",
    })
    void transitions(final int from, final int written, final boolean featuresValid, final int expected, final int outcome)
    {
        final DeviceStatus status = new DeviceStatus();
        final FeatureNegotiation features = featuresValid ? valid() : invalid();
        reach(status, from);

        assertEquals(outcome, status.write(written, features), "outcome");
        assertEquals(expected, status.get(), () -> "status " + DeviceStatus.toString(status.get()));
    }

    /** Drives a fresh status to {@code target} through legal writes and the device's NEEDS_RESET. */
    private static void reach(final DeviceStatus status, final int target)
    {
        final int driverBits = target & ~DEVICE_NEEDS_RESET & ~FAILED;
        if (driverBits != 0)
        {
            assertEquals(APPLIED, status.write(driverBits, valid()));
        }
        if ((target & DEVICE_NEEDS_RESET) != 0)
        {
            assertTrue(status.needsReset());
        }
        if ((target & FAILED) != 0)
        {
            status.write(status.get() | FAILED, valid());
        }
        assertEquals(target, status.get());
    }

    @Test
    void featuresOkLocksNegotiation()
    {
        final DeviceStatus status = new DeviceStatus();
        final FeatureNegotiation features = valid();
        status.write(ACKNOWLEDGE | DRIVER | FEATURES_OK, features);
        assertTrue(features.isLocked());
    }

    @Test
    void needsResetIsDeviceOwned()
    {
        final DeviceStatus status = new DeviceStatus();
        assertFalse(status.needsReset(), "nothing to flag in reset state");
        status.write(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, valid());
        assertTrue(status.isLive());
        assertTrue(status.needsReset());
        assertFalse(status.needsReset(), "already set");
        assertFalse(status.isLive());
        assertEquals("ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK|DEVICE_NEEDS_RESET", status.toString());
        assertEquals(RESET, status.write(0, valid()));
        assertEquals(0, status.get());
    }
}
