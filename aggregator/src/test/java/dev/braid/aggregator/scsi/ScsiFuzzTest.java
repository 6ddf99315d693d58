package dev.braid.aggregator.scsi;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import dev.braid.sim.scsi.SimHba;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.VirtioScsi;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.virtio.queue.SplitRingDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Guest-controlled bytes against the scsi request path ({@link ScsiRequestHandler#prepare} through
 * the front queue, a {@link SimHba} executing the CDBs) and the control path ({@link ScsiControlQueue}:
 * TMFs, AN requests): the fuzzer writes the descriptor tables of the control and request queues
 * (addresses, lengths, flags, next links: loops, indirect tables, writable-before-readable, addresses
 * outside guest memory), the avail rings and the buffer contents (command and TMF headers, CDBs).
 *
 * <p>Nothing may throw, and the device may write guest memory only in the used rings, the event
 * buffers and segments some descriptor marked device-writable. Input format: see {@link ScsiFuzzInput}.
 * Regression mode replays the committed corpus (written by {@link ScsiFuzzInput#main}); JAZZER_FUZZ=1 searches.
 */
class ScsiFuzzTest
{
    @FuzzTest(maxDuration = "60s")
    void guestControlledChains(final byte[] data)
    {
        run(data);
    }

    /** Guards the harness against being vacuous: a well-formed READ and a TMF are served and answered. */
    @Test
    void wellFormedInputsAreServed()
    {
        final long lun = ScsiLun.encode(0, 0);
        final long req = ScsiFuzzInput.ARENA;
        final long resp = req + 0x100;
        final long tmfReq = req + 0x400;
        final long tmfResp = req + 0x500;
        final int next = VIRTQ_DESC_F_NEXT;
        final int write = VIRTQ_DESC_F_WRITE;
        final byte[] input = new ScsiFuzzInput.Builder()
            .desc(1, req, ScsiDescriptor.cmdReqLength(32), next, 1)
            .desc(1, resp, ScsiDescriptor.cmdRespLength(96), next | write, 2)
            .desc(1, req + 0x1000, 1024, write, 0).heads(1, 0)
            .desc(0, tmfReq, ScsiDescriptor.TMF_REQ_LENGTH, next, 1).desc(0, tmfResp, 1, write, 0).heads(0, 0)
            .chunk(req, ScsiFuzzInput.cmd(lun, 1, 0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0))
            .chunk(tmfReq, ScsiFuzzInput.tmf(VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun, 0)).build();
        final GuestMemory memory = run(input);
        final long requestUsed = RingLayout.split(ScsiFuzzInput.REQUEST_RING, ScsiFuzzInput.SIZE, 4).usedGpa();
        final long controlUsed = RingLayout.split(ScsiFuzzInput.CONTROL_RING, ScsiFuzzInput.SIZE, 4).usedGpa();
        assertEquals(1, memory.getShort(requestUsed + USED_IDX_OFFSET), "the command completed");
        assertEquals(1, memory.getShort(controlUsed + USED_IDX_OFFSET), "the TMF completed");
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, memory.getByte(tmfResp));
        final int response = memory.getByte(resp + ScsiDescriptor.RESP_RESPONSE_OFFSET);
        assertTrue(response == VirtioScsi.VIRTIO_SCSI_S_OK || response == VirtioScsi.VIRTIO_SCSI_S_RESET,
            "read served or ended by the reset (RESET, never ABORTED): " + response);
    }

    private static GuestMemory run(final byte[] data)
    {
        final ScsiFuzzInput in = new ScsiFuzzInput(data);
        final GuestMemory memory = GuestMemory.allocate(ScsiFuzzInput.MEMORY);
        final RingLayout control = RingLayout.split(ScsiFuzzInput.CONTROL_RING, ScsiFuzzInput.SIZE, 4);
        final RingLayout event = RingLayout.split(ScsiFuzzInput.EVENT_RING, ScsiFuzzInput.SIZE, 4);
        final RingLayout request = RingLayout.split(ScsiFuzzInput.REQUEST_RING, ScsiFuzzInput.SIZE, 4);
        final boolean[] allowed = new boolean[ScsiFuzzInput.MEMORY];
        allow(allowed, control.usedGpa(), 4 + 8 * ScsiFuzzInput.SIZE + 2);
        allow(allowed, event.usedGpa(), 4 + 8 * ScsiFuzzInput.SIZE + 2);
        allow(allowed, request.usedGpa(), 4 + 8 * ScsiFuzzInput.SIZE + 2);

        final SplitDriverQueue eventDriver = new SplitDriverQueue(memory, event, false);
        for (int i = 0; i < 4; i++)
        {
            final long gpa = ScsiFuzzInput.EVENT_BUFFERS + 16L * i;
            eventDriver.addBuffer(gpa, 16, true);
            allow(allowed, gpa, 16);
        }
        eventDriver.publish();
        in.writeRings(memory, control, request);
        markWritable(memory, allowed, control.descGpa());
        markWritable(memory, allowed, request.descGpa());
        final byte[] before = new byte[ScsiFuzzInput.MEMORY];
        memory.getBytes(0, before, 0, before.length);

        final VirtualClock clock = new VirtualClock();
        final SimTarget target = new SimTarget(new SimLun(new SharedBlockStore(64), new AtomicLong(), "F", 1));
        final SimHba hba = new SimHba("hba", clock, new SimTarget[]{ target }, 1, 8, 1_000);
        final ScsiDevice scsi = VirtioScsiDevice.aggregate(new VirtioScsiDevice.Context().memory(memory).cards(List.of(hba))
            .maxCards(2).maxSegments(8).tmfTimeoutNanos(5_000_000).aggregation(Aggregation.activePassive(Failback.immediate()))
            .clock(clock).seed(1), deviceQueue(memory, control), deviceQueue(memory, event),
            new DeviceQueue[]{ deviceQueue(memory, request) }, 32, 96);
        final AggregatedDevice<ScsiCard> device = scsi.device();
        final ScsiControlQueue controlQueue = scsi.controlQueue();
        final DeterministicScheduler scheduler = new DeterministicScheduler(1, clock);
        for (final Agent agent : device.agents())
        {
            scheduler.addAgent(agent);
        }
        scheduler.addAgent(controlQueue);
        final TimerSource heartbeat = () -> clock.nanoTime() + 100_000;
        scheduler.addTimerSource(heartbeat);
        scheduler.runUntil(() -> false, 20_000_000L, 20_000);

        final byte[] after = new byte[ScsiFuzzInput.MEMORY];
        memory.getBytes(0, after, 0, after.length);
        for (int i = 0; i < after.length; i++)
        {
            if (!allowed[i] && after[i] != before[i])
            {
                fail("device wrote guest memory outside every writable segment at 0x" + Integer.toHexString(i));
            }
        }
        return memory;
    }

    private static SplitQueue deviceQueue(final GuestMemory memory, final RingLayout layout)
    {
        return new SplitQueue(memory, layout.queueSize(), layout.descGpa(), layout.availGpa(), layout.usedGpa(), false, true);
    }

    /** Every device-writable segment the guest described, direct or in an indirect table. */
    private static void markWritable(final GuestMemory memory, final boolean[] allowed, final long table)
    {
        for (int i = 0; i < ScsiFuzzInput.SIZE; i++)
        {
            final long at = table + (long)i * DESCRIPTOR_LENGTH;
            final long addr = memory.getLong(at + DESC_ADDR_OFFSET);
            final long len = memory.getInt(at + DESC_LEN_OFFSET) & 0xFFFF_FFFFL;
            final int flags = memory.getShort(at + DESC_FLAGS_OFFSET) & 0xFFFF;
            if ((flags & VIRTQ_DESC_F_WRITE) != 0)
            {
                allow(allowed, addr, len);
            }
            if ((flags & VIRTQ_DESC_F_INDIRECT) != 0 && addr >= 0 && addr + len <= ScsiFuzzInput.MEMORY)
            {
                for (long e = addr; e + DESCRIPTOR_LENGTH <= addr + Math.min(len, 64L * DESCRIPTOR_LENGTH); e += DESCRIPTOR_LENGTH)
                {
                    if ((memory.getShort(e + DESC_FLAGS_OFFSET) & VIRTQ_DESC_F_WRITE) != 0)
                    {
                        allow(allowed, memory.getLong(e + DESC_ADDR_OFFSET), memory.getInt(e + DESC_LEN_OFFSET) & 0xFFFF_FFFFL);
                    }
                }
            }
        }
    }

    private static void allow(final boolean[] allowed, final long gpa, final long length)
    {
        if (gpa < 0 || gpa >= allowed.length)
        {
            return;
        }
        final long end = Math.min(allowed.length, gpa + Math.max(0, length));
        for (long i = gpa; i < end; i++)
        {
            allowed[(int)i] = true;
        }
    }
}
