package dev.braid.aggregator;

import dev.braid.testkit.driver.RingLayout;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The guest driver's bring-up of a device, step by step, each step checked. */
public final class DriverSteps
{
    private DriverSteps()
    {
    }

    /** ACKNOWLEDGE, DRIVER, then every offered feature but packed rings and {@code drop}, FEATURES_OK. */
    public static void negotiate(final AbstractVirtioDevice device, final long drop)
    {
        final VirtioDeviceCore core = device.core();
        device.writeStatus(DeviceStatus.ACKNOWLEDGE);
        device.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        assertTrue(core.features().ackFeatures(core.features().offered() & ~(1L << VirtioFeatures.RING_PACKED) & ~drop));
        device.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
        assertTrue(core.status().has(DeviceStatus.FEATURES_OK));
    }

    /** Programs and enables queue {@code index} at {@code layout}. */
    public static void program(final VirtioDeviceCore core, final int index, final RingLayout layout)
    {
        core.queueSelect(index);
        assertTrue(core.queueSize(layout.queueSize()));
        assertTrue(core.queueDescriptorArea(layout.descGpa()));
        assertTrue(core.queueDriverArea(layout.availGpa()));
        assertTrue(core.queueDeviceArea(layout.usedGpa()));
        assertTrue(core.queueEnable(1));
    }

    /**
     * Programs and enables queue {@code index} of 64 entries whose descriptor table lies at 64 MiB,
     * past the end of the tests' guest memory; the steps themselves are not checked (the device
     * may refuse at DRIVER_OK).
     */
    public static void programDescriptorsPastMemory(final VirtioDeviceCore core, final int index)
    {
        core.queueSelect(index);
        core.queueSize(64);
        core.queueDescriptorArea(64L << 20);
        core.queueDriverArea(0x1000);
        core.queueDeviceArea(0x2000);
        core.queueEnable(1);
    }

    public static void driverOk(final AbstractVirtioDevice device)
    {
        device.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK |
            DeviceStatus.DRIVER_OK);
    }

    /**
     * DRIVER_OK, refused: no device is built, DEVICE_NEEDS_RESET is set and signalled by one config
     * interrupt, and no agent was handed to the VMM.
     */
    public static void driverOkNeedsReset(final AbstractVirtioDevice device, final AtomicInteger configInterrupts, final List<?> agents)
    {
        driverOk(device);
        assertNull(device.device());
        assertTrue(device.core().status().has(DeviceStatus.DEVICE_NEEDS_RESET));
        assertEquals(1, configInterrupts.get());
        assertTrue(agents.isEmpty());
    }
}
