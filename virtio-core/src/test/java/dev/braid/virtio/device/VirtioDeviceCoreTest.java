package dev.braid.virtio.device;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.braid.virtio.device.VirtioFeatures.bit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtioDeviceCoreTest
{
    private final List<String> events = new ArrayList<>();

    private VirtioDeviceCore core(final boolean ringReset)
    {
        final VirtioDeviceCore core = new VirtioDeviceCore(2, FeatureNegotiation.offer(0, false, ringReset), 256, 128);
        core.addResetListener(new DeviceResetListener()
        {
            public void onDeviceReset()
            {
                events.add("device");
            }

            public void onQueueReset(final int queueIndex)
            {
                events.add("queue" + queueIndex);
            }
        });
        return core;
    }

    private static void negotiate(final VirtioDeviceCore core, final long features)
    {
        core.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        core.features().ackFeatures(features);
        core.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
    }

    private static void program(final VirtioDeviceCore core, final int queue, final int size)
    {
        core.queueSelect(queue);
        assertTrue(core.queueSize(size));
        assertTrue(core.queueDescriptorArea(0x10000));
        assertTrue(core.queueDriverArea(0x20000));
        assertTrue(core.queueDeviceArea(0x30000));
    }

    @Test
    void queueSetupFollowsTheTransport()
    {
        final VirtioDeviceCore core = core(false);
        assertEquals(2, core.queueCount());
        core.queueSelect(1);
        assertEquals(128, core.queueSize());
        assertFalse(core.queueSize(64), "no queue setup before FEATURES_OK");

        negotiate(core, bit(VirtioFeatures.VERSION_1) | bit(VirtioFeatures.RING_PACKED));
        assertTrue(core.status().has(DeviceStatus.FEATURES_OK));
        program(core, 1, 100);
        assertTrue(core.queueEnable(1), "packed rings take any size");
        assertEquals(1, core.queueEnable());
        final QueueConfig queue = core.queue(1);
        assertTrue(queue.isPacked());
        assertEquals(100, queue.size());
        assertEquals(0x10000, queue.descriptorArea());
        assertEquals(0x20000, queue.driverArea());
        assertEquals(0x30000, queue.deviceArea());
        assertFalse(core.queueSize(64), "no writes to an enabled queue");

        core.queueSelect(9);
        assertNull(core.selectedQueue());
        assertEquals(0, core.queueSize());
        assertFalse(core.queueEnable(1));
    }

    @Test
    void splitRingNeedsPowerOfTwoAndAlignment()
    {
        final VirtioDeviceCore core = core(false);
        negotiate(core, bit(VirtioFeatures.VERSION_1));
        program(core, 0, 100);
        assertFalse(core.queueEnable(1));
        assertTrue(core.queueSize(128));
        assertTrue(core.queueDescriptorArea(0x10008));
        assertFalse(core.queueEnable(1), "descriptor table must be 16-byte aligned");
        assertTrue(core.queueDescriptorArea(0x10010));
        assertTrue(core.queueEnable(1));
        assertFalse(core.queue(0).isPacked());
        assertFalse(QueueConfig.isValidSize(512, 256, false));
        assertFalse(QueueConfig.isValidSize(0, 256, true));
    }

    @Test
    void resetReturnsEveryQueueAndTellsListeners()
    {
        final VirtioDeviceCore core = core(false);
        negotiate(core, bit(VirtioFeatures.VERSION_1));
        program(core, 0, 64);
        assertTrue(core.queueEnable(1));
        core.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        assertTrue(core.status().isLive());

        assertEquals(DeviceStatus.RESET, core.writeStatus(0));
        assertEquals(List.of("device"), events);
        assertEquals(0, core.readStatus());
        assertFalse(core.features().isLocked());
        assertEquals(0, core.features().acked());
        assertEquals(0, core.queueSelect());
        final QueueConfig queue = core.queue(0);
        assertFalse(queue.isEnabled());
        assertEquals(256, queue.size());
        assertEquals(0, queue.descriptorArea());
        assertEquals(QueueConfig.NO_VECTOR, queue.msixVector());
    }

    @Test
    void needsResetRaisesConfigInterruptOnlyWhenLive()
    {
        final VirtioDeviceCore core = core(false);
        assertFalse(core.needsReset());
        negotiate(core, bit(VirtioFeatures.VERSION_1));
        final int generation = core.configGeneration();
        assertFalse(core.needsReset(), "flagged, but no interrupt before DRIVER_OK");
        assertTrue(core.status().has(DeviceStatus.DEVICE_NEEDS_RESET));
        assertEquals(generation + 1, core.configGeneration());
    }

    @Test
    void ringResetResetsOneQueue()
    {
        final VirtioDeviceCore without = core(false);
        negotiate(without, bit(VirtioFeatures.VERSION_1));
        program(without, 0, 64);
        assertTrue(without.queueEnable(1));
        assertFalse(without.queueEnable(0), "disabling needs RING_RESET");
        assertTrue(without.queue(0).isEnabled());

        final VirtioDeviceCore with = core(true);
        negotiate(with, bit(VirtioFeatures.VERSION_1) | bit(VirtioFeatures.RING_RESET));
        program(with, 1, 64);
        assertTrue(with.queueEnable(1));
        assertTrue(with.queueReset());
        assertFalse(with.queue(1).isEnabled());
        assertEquals(128, with.queue(1).size());
        assertEquals(List.of("queue1"), events);
        program(with, 1, 32);
        assertTrue(with.queueEnable(1), "a reset queue can be set up again");
    }
}
