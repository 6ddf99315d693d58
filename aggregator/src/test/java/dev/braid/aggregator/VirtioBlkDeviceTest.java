package dev.braid.aggregator;

import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.AllDownPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.braid.aggregator.DriverSteps.*;
import static org.junit.jupiter.api.Assertions.*;

class VirtioBlkDeviceTest
{
    private final GuestMemory memory = GuestMemory.allocate(8 << 20);
    private final SharedBlockStore store = new SharedBlockStore(4096);
    private final List<Agent> agents = new ArrayList<>();
    private final AtomicInteger configInterrupts = new AtomicInteger();
    private final AtomicInteger interrupts = new AtomicInteger();

    private VirtioBlkDevice newDevice()
    {
        return newDevice(1);
    }

    private VirtioBlkDevice newDevice(final int queueCount)
    {
        final List<BlockCard> cards = List.of(
            SimDisk.builder("a", store).latency(LatencyModel.ZERO).build(),
            SimDisk.builder("b", store).latency(LatencyModel.ZERO).build());
        return new VirtioBlkDevice(new VirtioBlkDevice.Context().memory(memory).cards(cards).queueCount(queueCount)
            .aggregation(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE)).allDown(AllDownPolicy.failFast())
            .interrupts(q -> interrupts.incrementAndGet()).configInterrupt(configInterrupts::incrementAndGet)
            .onActivate(agents::addAll).onDeactivate(agents::clear));
    }

    @Test
    void configSpaceShowsTheSmallestCardCapacity()
    {
        final VirtioBlkDevice device = newDevice();
        assertEquals(4096, device.readConfig(0, 8));
    }

    @Test
    void driverOkBuildsTheQueuesAndRequestsFlow()
    {
        final VirtioBlkDevice device = newDevice();
        negotiate(device, 0);
        final RingLayout layout = RingLayout.split(0x10000, 64, 4);
        final VirtioDeviceCore core = device.core();
        core.queueSelect(0);
        assertTrue(core.queueSize(64));
        assertTrue(core.queueDescriptorArea(layout.descGpa()));
        assertTrue(core.queueDriverArea(layout.availGpa()));
        assertTrue(core.queueDeviceArea(layout.usedGpa()));
        assertTrue(core.queueEnable(1));
        device.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK |
            DeviceStatus.DRIVER_OK);
        assertNotNull(device.device(), "DRIVER_OK activated the device");
        assertFalse(agents.isEmpty());

        final VirtualClock clock = new VirtualClock();
        final DeterministicScheduler scheduler = new DeterministicScheduler(3, clock);
        agents.forEach(scheduler::addAgent);
        final BlkGuestWorkload guest = BlkGuestWorkload.builder().queue(0, new SplitDriverQueue(memory, layout, true))
            .memory(memory).areaGpa(0x100000).range(0, 2048).maxPerRequest(4).requests(500).maxOutstanding(32).seed(3)
            .kicker(device::kick).build();
        scheduler.addAgent(guest);
        assertTrue(scheduler.runUntil(guest::isFinished, 10_000_000_000L, 5_000_000));
        assertEquals(0, guest.errors());
        assertEquals(0, guest.corrupt());
        assertEquals(0, guest.strays());
        assertTrue(interrupts.get() > 0, "the guest was interrupted");

        device.writeStatus(0);
        assertNull(device.device(), "reset tears the device down");
        assertTrue(agents.isEmpty(), "the VMM was told to stop the agents");
    }

    @Test
    void ringOutsideGuestMemoryNeedsResetInsteadOfThrowing()
    {
        final VirtioBlkDevice device = newDevice();
        negotiate(device, 0);
        final VirtioDeviceCore core = device.core();
        programDescriptorsPastMemory(core, 0);
        driverOkNeedsReset(device, configInterrupts, agents);
    }

    /** Linux with fewer vCPUs than num_queues enables only the leading queues: the device serves those. */
    @Test
    void driverOkBuildsOverTheEnabledLeadingQueuesOnly()
    {
        for (int enabled = 1; enabled <= 4; enabled++)
        {
            final VirtioBlkDevice device = newDevice(4);
            negotiate(device, 0);
            final boolean[] on = new boolean[4];
            for (int q = 0; q < enabled; q++)
            {
                on[q] = true;
            }
            programQueues(device, on);
            assertNotNull(device.device(), enabled + " of 4 enabled");
            assertFalse(device.core().status().has(DeviceStatus.DEVICE_NEEDS_RESET));
            assertEquals(enabled, device.device().guestQueueCount(), "queues served");
            device.writeStatus(0);
            assertNull(device.device());
        }
    }

    @Test
    void aHoleInTheEnabledQueuesOrNoneEnabledNeedsReset()
    {
        final boolean[][] refused = {
            {false, false, false, false}, {true, false, true, false}, {false, true, false, false}, {true, true, false, true}};
        for (final boolean[] on : refused)
        {
            configInterrupts.set(0);
            final VirtioBlkDevice device = newDevice(4);
            negotiate(device, 0);
            programQueues(device, on);
            assertNull(device.device(), java.util.Arrays.toString(on));
            assertTrue(device.core().status().has(DeviceStatus.DEVICE_NEEDS_RESET), java.util.Arrays.toString(on));
            assertEquals(1, configInterrupts.get());
        }
    }

    /** Programs every queue at its own ring, enables those marked, sets DRIVER_OK. */
    private static void programQueues(final VirtioBlkDevice device, final boolean[] enabled)
    {
        final VirtioDeviceCore core = device.core();
        for (int q = 0; q < enabled.length; q++)
        {
            final RingLayout layout = RingLayout.split(0x10000 + q * 0x8000L, 64, 4);
            core.queueSelect(q);
            assertTrue(core.queueSize(64));
            assertTrue(core.queueDescriptorArea(layout.descGpa()));
            assertTrue(core.queueDriverArea(layout.availGpa()));
            assertTrue(core.queueDeviceArea(layout.usedGpa()));
            if (enabled[q])
            {
                assertTrue(core.queueEnable(1));
            }
        }
        device.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK |
            DeviceStatus.DRIVER_OK);
    }
}
