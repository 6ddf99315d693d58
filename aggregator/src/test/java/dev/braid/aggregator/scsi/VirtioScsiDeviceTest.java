package dev.braid.aggregator.scsi;

import dev.braid.testkit.guest.ScsiGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.AllDownPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import dev.braid.sim.scsi.SimHba;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.VirtioScsi;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.aggregator.DriverSteps.*;
import static org.junit.jupiter.api.Assertions.*;

class VirtioScsiDeviceTest
{
    private static final int BLOCKS = 2048;

    private final VirtualClock clock = new VirtualClock();
    private final GuestMemory memory = GuestMemory.allocate(8 << 20);
    private final SharedBlockStore store = new SharedBlockStore(BLOCKS);
    private final SimTarget target = new SimTarget(new SimLun(store, new AtomicLong(), "BRAID0001", 7));
    private final SimHba[] hbas = {
        new SimHba("hba0", clock, new SimTarget[]{ target }, 2, 32, 20_000),
        new SimHba("hba1", clock, new SimTarget[]{ target }, 2, 32, 30_000) };
    private final List<Agent> agents = new ArrayList<>();
    private final AtomicInteger configInterrupts = new AtomicInteger();
    private final AtomicInteger interrupts = new AtomicInteger();
    private final RingLayout control = RingLayout.split(0, 16, 4);
    private final RingLayout event = RingLayout.split(RingLayout.alignUp(control.endGpa(), 4096), 8, 4);
    private final RingLayout request = RingLayout.split(RingLayout.alignUp(event.endGpa(), 4096), 64, 4);

    private VirtioScsiDevice newDevice()
    {
        return new VirtioScsiDevice(new VirtioScsiDevice.Context().memory(memory)
            .cards(List.<ScsiCard>of(hbas[0], hbas[1])).queueMaxSize(128)
            .aggregation(Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING)).allDown(AllDownPolicy.failFast())
            .interrupts(q -> interrupts.incrementAndGet()).configInterrupt(configInterrupts::incrementAndGet)
            .onActivate(agents::addAll).onDeactivate(agents::clear).clock(clock));
    }

    private void programAll(final VirtioScsiDevice device)
    {
        program(device.core(), 0, control);
        program(device.core(), 1, event);
        program(device.core(), 2, request);
    }

    @Test
    void configSpaceAndQueues()
    {
        final VirtioScsiDevice device = newDevice();
        final VirtioDeviceCore core = device.core();
        assertEquals(VirtioScsi.VIRTIO_ID_SCSI, core.deviceId());
        assertEquals(3, core.queueCount(), "control, event, one request queue");
        assertFalse(core.features().isOffered(VirtioScsi.VIRTIO_SCSI_F_HOTPLUG));
        assertTrue(core.features().isOffered(VirtioFeatures.VERSION_1));
        assertEquals(1, device.readConfig(ScsiDescriptor.CFG_NUM_QUEUES_OFFSET, 4));
        assertEquals(VirtioScsiDevice.SEG_MAX, device.readConfig(ScsiDescriptor.CFG_SEG_MAX_OFFSET, 4));
        assertEquals(VirtioScsiDevice.MAX_SECTORS, device.readConfig(ScsiDescriptor.CFG_MAX_SECTORS_OFFSET, 4));
        assertEquals(128, device.readConfig(ScsiDescriptor.CFG_CMD_PER_LUN_OFFSET, 4));
        assertEquals(ScsiDescriptor.EVENT_LENGTH, device.readConfig(ScsiDescriptor.CFG_EVENT_INFO_SIZE_OFFSET, 4));
        assertEquals(96, device.readConfig(ScsiDescriptor.CFG_SENSE_SIZE_OFFSET, 4));
        assertEquals(32, device.readConfig(ScsiDescriptor.CFG_CDB_SIZE_OFFSET, 4));
        assertEquals(0, device.readConfig(ScsiDescriptor.CFG_MAX_CHANNEL_OFFSET, 2));
        assertEquals(0, device.readConfig(ScsiDescriptor.CFG_MAX_TARGET_OFFSET, 2));
        assertEquals(0, device.readConfig(ScsiDescriptor.CFG_MAX_LUN_OFFSET, 4));
        assertTrue(device.writeConfig(ScsiDescriptor.CFG_SENSE_SIZE_OFFSET, 4, 64), "sense_size is driver-writable");
        assertEquals(64, device.readConfig(ScsiDescriptor.CFG_SENSE_SIZE_OFFSET, 4));
        assertFalse(device.writeConfig(ScsiDescriptor.CFG_NUM_QUEUES_OFFSET, 4, 8), "num_queues is not");
        assertEquals(1, device.readConfig(ScsiDescriptor.CFG_NUM_QUEUES_OFFSET, 4));
    }

    @Test
    void driverOkBuildsTheDeviceAndCommandsFlow()
    {
        final VirtioScsiDevice device = newDevice();
        negotiate(device, 0);
        programAll(device);
        driverOk(device);
        assertNotNull(device.device(), "DRIVER_OK activated the device");
        assertNotNull(device.scsi());
        assertTrue(agents.contains(device.controlQueue()), "the control queue agent is handed to the VMM");

        final DeterministicScheduler scheduler = new DeterministicScheduler(9, clock);
        agents.forEach(scheduler::addAgent);
        final ScsiGuestWorkload guest = ScsiGuestWorkload.builder().queue(0, new SplitDriverQueue(memory, request, true))
            .memory(memory).areaGpa(1 << 20).sizes(32, 96).range(0, BLOCKS).requests(1_000).maxOutstanding(64).seed(9)
            .kicker(device::kick).build();
        scheduler.addAgent(guest);
        final TimerSource heartbeat = () -> clock.nanoTime() + 100_000;
        scheduler.addTimerSource(heartbeat);
        assertTrue(scheduler.runUntil(guest::isFinished, 60_000_000_000L, 20_000_000), "workload finished");
        assertEquals(0, guest.outstanding());
        assertEquals(0, guest.strays());
        assertEquals(0, guest.corrupt());
        assertEquals(0, guest.failures());
        assertEquals(0, guest.aborted() + guest.resets(), "no TMF was sent");
        assertEquals(0, guest.checkConditions());
        assertEquals(0, guest.badLengths());
        assertTrue(guest.reads() > 0 && guest.writes() > 0);
        assertTrue(hbas[0].commandsSubmitted() > 0 && hbas[1].commandsSubmitted() > 0, "both paths served");
        assertTrue(interrupts.get() > 0, "the guest was interrupted");
        assertTrue(device.checkHealth());

        device.writeStatus(0);
        assertNull(device.device(), "reset tears the device down");
        assertNull(device.scsi());
        assertNull(device.controlQueue());
        assertTrue(agents.isEmpty(), "the VMM was told to stop the agents");
        assertFalse(hbas[0].isFenced() || hbas[1].isFenced(), "fenced and reopened for the next activation");
    }

    @Test
    void ringOutsideGuestMemoryNeedsResetInsteadOfThrowing()
    {
        final VirtioScsiDevice device = newDevice();
        negotiate(device, 0);
        program(device.core(), 0, control);
        program(device.core(), 1, event);
        final VirtioDeviceCore core = device.core();
        programDescriptorsPastMemory(core, 2);
        driverOkNeedsReset(device, configInterrupts, agents);
    }

    @Test
    void aCdbSizeBraidCannotHoldNeedsReset()
    {
        final VirtioScsiDevice device = newDevice();
        negotiate(device, 0);
        programAll(device);
        assertTrue(device.writeConfig(ScsiDescriptor.CFG_CDB_SIZE_OFFSET, 4, 0));
        driverOk(device);
        assertNull(device.device());
        assertTrue(device.core().status().has(DeviceStatus.DEVICE_NEEDS_RESET));

        device.writeStatus(0);
        assertFalse(device.core().status().has(DeviceStatus.DEVICE_NEEDS_RESET), "reset clears it");
    }

    /** Request queues 2..k-1 enabled of 4 offered: the device serves those; a hole or none needs reset. */
    @Test
    void driverOkBuildsOverTheEnabledLeadingRequestQueuesOnly()
    {
        final boolean[][] cases = {
            {true, false, false, false}, {true, true, false, false}, {true, true, true, true},
            {false, false, false, false}, {true, false, true, false}, {false, true, false, false}};
        final int[] served = {1, 2, 4, 0, 0, 0};
        for (int c = 0; c < cases.length; c++)
        {
            configInterrupts.set(0);
            final VirtioScsiDevice device = new VirtioScsiDevice(new VirtioScsiDevice.Context().memory(memory)
                .cards(List.<ScsiCard>of(hbas[0], hbas[1])).queueMaxSize(128).requestQueues(4)
                .aggregation(Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING)).allDown(AllDownPolicy.failFast())
                .interrupts(q -> interrupts.incrementAndGet()).configInterrupt(configInterrupts::incrementAndGet)
                .onActivate(agents::addAll).onDeactivate(agents::clear).clock(clock));
            negotiate(device, 0);
            program(device.core(), 0, control);
            program(device.core(), 1, event);
            final VirtioDeviceCore core = device.core();
            long gpa = RingLayout.alignUp(event.endGpa(), 4096);
            for (int i = 0; i < 4; i++)
            {
                final RingLayout layout = RingLayout.split(gpa, 64, 4);
                gpa = RingLayout.alignUp(layout.endGpa(), 4096);
                core.queueSelect(2 + i);
                assertTrue(core.queueSize(64));
                assertTrue(core.queueDescriptorArea(layout.descGpa()));
                assertTrue(core.queueDriverArea(layout.availGpa()));
                assertTrue(core.queueDeviceArea(layout.usedGpa()));
                if (cases[c][i])
                {
                    assertTrue(core.queueEnable(1));
                }
            }
            driverOk(device);
            final String what = java.util.Arrays.toString(cases[c]);
            if (served[c] > 0)
            {
                assertNotNull(device.device(), what);
                assertEquals(served[c], device.device().guestQueueCount(), what);
                assertFalse(core.status().has(DeviceStatus.DEVICE_NEEDS_RESET), what);
                device.writeStatus(0);
            }
            else
            {
                assertNull(device.device(), what);
                assertTrue(core.status().has(DeviceStatus.DEVICE_NEEDS_RESET), what);
                assertEquals(1, configInterrupts.get(), what);
            }
        }
    }
}
