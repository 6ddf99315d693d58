package dev.braid.aggregator.scsi;

import dev.braid.sim.LatencyModel;
import dev.braid.sim.SimDisk;
import dev.braid.virtio.scsi.emulator.BlockScsiCard;
import dev.braid.virtio.scsi.emulator.ScsiDiskEmulator;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.testkit.guest.ScsiGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import dev.braid.sim.scsi.SimHba;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.VirtioScsi;
import org.agrona.concurrent.Agent;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A deterministic aggregated scsi device over {@link SimHba}s, or over {@link BlockScsiCard}s on
 * {@link SimDisk}s (multipath: every card reaches target 0, LUN 0 over one {@link ScsiDiskEmulator}
 * on one {@link SharedBlockStore}), each seen through an {@link ObservedHba}, with a verifying guest
 * and a TMF sender.
 */
final class ScsiRig
{
    /** What a path is: an HBA that runs TMFs itself, or the SCSI card over any block card. */
    enum Paths
    {
        SIM_HBA, BLOCK_CARD
    }

    static final int QUEUE_SIZE = 64;
    static final int CDB = 32;
    static final int SENSE = 96;
    static final int BLOCKS = 2048;

    final VirtualClock clock = new VirtualClock();
    final DeterministicScheduler scheduler;
    final GuestMemory memory;
    final ObservedHba[] hbas;
    final SharedBlockStore store = new SharedBlockStore(BLOCKS);
    final ScsiDevice scsi;
    final AggregatedDevice<ScsiCard> device;
    final ScsiControlQueue control;
    final ScsiGuestWorkload guest;
    final DriverQueue guestDriver;
    final DriverQueue controlDriver;
    final DriverQueue eventDriver;
    final long seed;
    private final long tmfGpa;
    private int tmfId = -1;
    private int tmfResponse = -1;
    private int tmfUsedLength = -1;
    private long[] affectedAtTmf = new long[0];
    private boolean orderViolated;

    /** {@code latency}: each card's service latency (SimHba's is fixed; the cards differ by index). */
    ScsiRig(final long seed, final int cards, final boolean activePassive, final long latency, final long requests)
    {
        this(seed, cards, activePassive, latency, requests, Paths.SIM_HBA);
    }

    ScsiRig(final long seed, final int cards, final boolean activePassive, final long latency, final long requests,
        final Paths paths)
    {
        this.seed = seed;
        System.out.println("seed=" + seed + " cards=" + cards + " activePassive=" + activePassive + " paths=" + paths);
        scheduler = new DeterministicScheduler(seed, clock);
        memory = GuestMemory.allocate(4 << 20);
        final RingLayout controlLayout = RingLayout.split(0, 16, 4);
        final RingLayout eventLayout = RingLayout.split(RingLayout.alignUp(controlLayout.endGpa(), 4096), 8, 4);
        final RingLayout requestLayout = RingLayout.split(RingLayout.alignUp(eventLayout.endGpa(), 4096), QUEUE_SIZE, 4);
        controlDriver = new SplitDriverQueue(memory, controlLayout, true);
        eventDriver = new SplitDriverQueue(memory, eventLayout, true);
        guestDriver = new SplitDriverQueue(memory, requestLayout, true);
        final DeviceQueue controlQueue = deviceQueue(controlLayout, 16);
        final DeviceQueue eventQueue = deviceQueue(eventLayout, 8);
        final DeviceQueue requestQueue = deviceQueue(requestLayout, QUEUE_SIZE);
        final long area = RingLayout.alignUp(requestLayout.endGpa(), 4096);
        tmfGpa = area;
        final long eventArea = area + 4096;
        final long guestArea = eventArea + 4096;

        final SimTarget target = new SimTarget(new SimLun(store, new java.util.concurrent.atomic.AtomicLong(),
            "BRAID0001", 0x1234));
        final ScsiDiskEmulator blockLun = ScsiDiskEmulator.forBlockMedium(BLOCKS, "BRAID0001", 0x1234);
        hbas = new ObservedHba[cards];
        final List<ScsiCard> cardList = new ArrayList<>();
        for (int i = 0; i < cards; i++)
        {
            // Slightly different latencies per path, so completions interleave across cards.
            final long pathLatency = latency + i * latency / 7;
            if (paths == Paths.SIM_HBA)
            {
                hbas[i] = new ObservedHba(new SimHba("hba" + i, clock, new SimTarget[]{ target }, 2, 32, pathLatency));
            }
            else
            {
                final SimDisk disk = SimDisk.builder("disk" + i, store).clock(clock).queues(2, 32)
                    .latency(LatencyModel.fixed(pathLatency)).seed(seed + i).build();
                hbas[i] = new ObservedHba(new BlockScsiCard(disk, blockLun), disk);
            }
            cardList.add(hbas[i]);
        }
        scsi = VirtioScsiDevice.aggregate(new VirtioScsiDevice.Context().memory(memory).cards(cardList).maxSegments(16)
            .aggregation(activePassive ? Aggregation.activePassive(Failback.immediate()) :
                Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING))
            .health(new HealthConfig().completionTimeoutNanos(5_000_000).minDownNanos(2_000_000).probeIntervalNanos(1_000_000))
            .clock(clock).seed(seed).onAgentAdded(scheduler::addAgent),
            controlQueue, eventQueue, new DeviceQueue[]{ requestQueue }, CDB, SENSE);
        device = scsi.device();
        control = scsi.controlQueue();
        for (final Agent agent : device.agents())
        {
            scheduler.addAgent(agent);
        }
        scheduler.addAgent(control);
        guest = ScsiGuestWorkload.builder().queue(0, guestDriver).memory(memory).areaGpa(guestArea).sizes(CDB, SENSE)
            .range(0, BLOCKS).requests(requests).maxOutstanding(QUEUE_SIZE).seed(seed).build();
        scheduler.addAgent(guest);
        scheduler.addAgent(new Agent()
        {
            public int doWork()
            {
                return reapTmf();
            }

            public String roleName()
            {
                return "tmf-driver";
            }
        });
        for (int i = 0; i < 4; i++)
        {
            eventDriver.addBuffer(eventArea + i * 64L, ScsiDescriptor.EVENT_LENGTH, true);
        }
        eventDriver.publish();
        final TimerSource heartbeat = () -> clock.nanoTime() + 100_000;
        scheduler.addTimerSource(heartbeat);
    }

    private DeviceQueue deviceQueue(final RingLayout layout, final int size)
    {
        return new SplitQueue(memory, size, layout.descGpa(), layout.availGpa(), layout.usedGpa(), true, true);
    }

    /** Posts a TMF on the control queue; remembers which tasks were in the device when it was posted. */
    void sendTmf(final int subtype, final long tag)
    {
        memory.setMemory(tmfGpa, 64, (byte)0);
        memory.putInt(tmfGpa + ScsiDescriptor.TMF_TYPE_OFFSET, VirtioScsi.VIRTIO_SCSI_T_TMF);
        memory.putInt(tmfGpa + ScsiDescriptor.TMF_SUBTYPE_OFFSET, subtype);
        memory.putLong(tmfGpa + ScsiDescriptor.TMF_LUN_OFFSET, ScsiLun.encode(0, 0));
        memory.putLong(tmfGpa + ScsiDescriptor.TMF_ID_OFFSET, tag);
        memory.putByte(tmfGpa + 32, (byte)0xEE);
        final BufferChain chain = new BufferChain(2).readable(tmfGpa, ScsiDescriptor.TMF_REQ_LENGTH).writable(tmfGpa + 32, 1);
        // Tasks the device holds now (popped, not completed) must be completed before the TMF is.
        final ScsiTaskTable tasks = scsi.tasks();
        final long[] affected = new long[tasks.entries()];
        int n = 0;
        for (int i = 0; i < tasks.entries(); i++)
        {
            final int state = tasks.state(i);
            final boolean reset = subtype == VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET ||
                subtype == VirtioScsi.VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET;
            final boolean abort = subtype == VirtioScsi.VIRTIO_SCSI_T_TMF_ABORT_TASK && tasks.tag(i) == tag;
            if (ScsiTaskTable.phase(state) == ScsiTaskTable.ACTIVE && (reset || abort))
            {
                affected[n++] = tasks.tag(i);
            }
        }
        affectedAtTmf = java.util.Arrays.copyOf(affected, n);
        tmfResponse = -1;
        tmfId = controlDriver.addChain(chain, false);
        assertTrue(tmfId >= 0);
        controlDriver.publish();
    }

    /** Posts an AN query; returns the used length and leaves (event_actual, response) at {@link #anResponse}. */
    void sendAnQuery(final long events)
    {
        memory.setMemory(tmfGpa, 64, (byte)0xEE);
        memory.putInt(tmfGpa + ScsiDescriptor.AN_TYPE_OFFSET, VirtioScsi.VIRTIO_SCSI_T_AN_QUERY);
        memory.putLong(tmfGpa + ScsiDescriptor.AN_LUN_OFFSET, ScsiLun.encode(0, 0));
        memory.putInt(tmfGpa + ScsiDescriptor.AN_EVENT_REQUESTED_OFFSET, (int)events);
        final BufferChain chain = new BufferChain(2).readable(tmfGpa, ScsiDescriptor.AN_REQ_LENGTH)
            .writable(tmfGpa + 32, ScsiDescriptor.AN_RESP_LENGTH);
        affectedAtTmf = new long[0];
        tmfResponse = -1;
        tmfId = controlDriver.addChain(chain, false);
        controlDriver.publish();
    }

    long anEventActual()
    {
        return memory.getInt(tmfGpa + 32 + ScsiDescriptor.AN_EVENT_ACTUAL_OFFSET) & 0xFFFF_FFFFL;
    }

    int anResponse()
    {
        return memory.getByte(tmfGpa + 32 + ScsiDescriptor.AN_RESPONSE_OFFSET) & 0xFF;
    }

    int tmfUsedLength()
    {
        return tmfUsedLength;
    }

    private int reapTmf()
    {
        return controlDriver.reap((id, length) ->
        {
            // What the guest can see once the TMF is visible: reap the request queue first.
            guestDriver.reap(guest);
            for (final long tag : affectedAtTmf)
            {
                if (guest.isOutstanding(tag))
                {
                    orderViolated = true;
                }
            }
            assertEquals(tmfId, id, "TMF id");
            tmfUsedLength = length;
            tmfResponse = memory.getByte(tmfGpa + 32) & 0xFF;
        });
    }

    int tmfResponse()
    {
        return tmfResponse;
    }

    int affectedCount()
    {
        return affectedAtTmf.length;
    }

    boolean run(final long maxVirtualNanos)
    {
        return scheduler.runUntil(guest::isFinished, maxVirtualNanos, 50_000_000L);
    }

    boolean runUntil(final java.util.function.BooleanSupplier done, final long maxVirtualNanos)
    {
        return scheduler.runUntil(done, maxVirtualNanos, 50_000_000L);
    }

    void assertInvariants(final boolean abortsAllowed)
    {
        final String where = " (seed=" + seed + ")";
        assertEquals(0, guest.outstanding(), "lost requests" + where);
        assertEquals(0, guest.strays(), "duplicate or stray completions" + where);
        assertEquals(0, guest.corrupt(), "reads that did not return the last completed write" + where);
        assertEquals(0, guest.failures(), "failures seen by the guest while a card was up" + where);
        assertEquals(0, guest.checkConditions(), "check conditions" + where);
        assertEquals(0, guest.badLengths(), "wrong residual or used length" + where);
        if (!abortsAllowed)
        {
            assertEquals(0, guest.aborted(), "aborted commands" + where);
            assertEquals(0, guest.resets(), "reset commands" + where);
        }
        assertTrue(guest.reads() > 0 && guest.writes() > 0);
        assertFalse(orderViolated, "a TMF completed before a task it affected" + where);
        assertEquals(0, device.frontQueue(0).inFlight(), "leaked in-flight entries" + where);
        assertFalse(device.frontQueue(0).isBroken(), "queue broken" + where);
        for (int i = 0; i < scsi.tasks().entries(); i++)
        {
            assertEquals(ScsiTaskTable.FREE, ScsiTaskTable.phase(scsi.tasks().state(i)), "task table entry " + i + where);
        }
        assertEquals(4, control.heldEvents(), "event buffers held");
    }
}
