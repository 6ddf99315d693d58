package dev.braid.sim.scsi;

import dev.braid.virtio.scsi.emulator.ScsiSense;
import dev.braid.virtio.scsi.emulator.VirtioScsiResponse;
import dev.braid.sim.CardFault;
import dev.braid.sim.ManualNanoClock;
import dev.braid.sim.CompletionLog;
import dev.braid.sim.SharedBlockStore;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.virtio.scsi.emulator.ScsiConstants.*;
import static org.junit.jupiter.api.Assertions.*;

class SimHbaTest
{
    static final long LATENCY = 5_000;
    static final long OUT = 0x1000;
    static final long IN = 0x20000;

    final ManualNanoClock clock = new ManualNanoClock();
    final GuestMemory memory = GuestMemory.allocate(1 << 20);
    final AtomicLong versions = new AtomicLong();
    final SharedBlockStore store0 = new SharedBlockStore(1024);
    final SimTarget[] targets = {
        new SimTarget(
            new SimLun(store0, versions, "T0L0", 1),
            new SimLun(new SharedBlockStore(1024), versions, "T0L1", 2)),
        new SimTarget(new SimLun(new SharedBlockStore(256), versions, "T1L0", 3))};
    final SimHba hbaA = new SimHba("hba-a", clock, targets, 2, 4, LATENCY);
    final SimHba hbaB = new SimHba("hba-b", clock, targets, 2, 4, LATENCY);
    final CompletionLog sink = new CompletionLog();

    ScsiIo write(final int target, final int lun, final long tag, final int lba, final byte fill)
    {
        memory.setMemory(OUT + tag * 512, 512, fill);
        final ScsiIo io = new ScsiIo(2);
        final byte[] cdb = {0x2A, 0, 0, 0, 0, (byte)lba, 0, 0, 1, 0};
        System.arraycopy(cdb, 0, io.cdb(), 0, cdb.length);
        io.set(target, lun, tag, cdb.length);
        io.dataOut().reset(memory);
        io.dataOut().add(OUT + tag * 512, 512);
        io.dataIn().reset(memory);
        return io;
    }

    ScsiIo read(final int target, final int lun, final long tag, final int lba)
    {
        final ScsiIo io = new ScsiIo(2);
        final byte[] cdb = {0x28, 0, 0, 0, 0, (byte)lba, 0, 0, 1, 0};
        System.arraycopy(cdb, 0, io.cdb(), 0, cdb.length);
        io.set(target, lun, tag, cdb.length);
        io.dataOut().reset(memory);
        io.dataIn().reset(memory);
        io.dataIn().add(IN + tag * 512, 512);
        memory.setMemory(IN + tag * 512, 512, (byte)0x77);
        return io;
    }

    @Test
    void writeOnOnePathReadOnAnother()
    {
        assertTrue(hbaA.submit(0, write(0, 0, 1, 7, (byte)0x5C), 100, sink));
        assertEquals(0, hbaA.poll(0), "not before the latency");
        assertEquals(0, store0.version(7));
        clock.advance(LATENCY);
        assertEquals(1, hbaA.poll(0));
        final CompletionLog.Completion w = sink.byToken(100);
        assertEquals(STATUS_GOOD, ScsiIo.scsiStatus(w.status()));
        assertEquals(VirtioScsiResponse.OK, ScsiIo.response(w.status()));
        assertEquals(512, w.length());
        assertEquals(1, store0.version(7));

        assertTrue(hbaB.submit(1, read(0, 0, 2, 7), 101, sink));
        clock.advance(LATENCY);
        assertEquals(1, hbaB.poll(1));
        assertEquals(512, sink.byToken(101).length());
        for (int i = 0; i < 512; i++)
        {
            assertEquals(0x5C, memory.getByte(IN + 2 * 512 + i));
        }
    }

    @Test
    void checkConditionCarriesSenseAndLength()
    {
        final ScsiIo io = read(0, 0, 1, 0);
        io.cdb()[5] = 0;
        io.cdb()[4] = 0x10;                                       // LBA 4096 > 1024 blocks
        assertTrue(hbaA.submit(0, io, 5, sink));
        clock.advance(LATENCY);
        hbaA.poll(0);
        final int packed = sink.only().status();
        assertEquals(STATUS_CHECK_CONDITION, ScsiIo.scsiStatus(packed));
        assertEquals(18, ScsiIo.senseLength(packed));
        assertEquals(ASC_LBA_OUT_OF_RANGE, ScsiSense.asc(io.sense()));
        assertEquals(0, sink.only().length());
    }

    @Test
    void missingTargetIsBadTarget()
    {
        assertTrue(hbaA.submit(0, read(5, 0, 1, 0), 9, sink));
        clock.advance(LATENCY);
        hbaA.poll(0);
        assertEquals(VirtioScsiResponse.BAD_TARGET, ScsiIo.response(sink.only().status()));
    }

    @Test
    void abortTaskByTag()
    {
        assertTrue(hbaA.submit(0, write(0, 0, 1, 3, (byte)1), 11, sink));
        assertTrue(hbaA.submit(1, write(0, 0, 2, 4, (byte)2), 12, sink));
        assertTrue(hbaA.taskManagement(0, ScsiCard.TMF_ABORT_TASK, 0, 0, 2, 50, sink));
        assertEquals(1, hbaA.poll(0), "the TMF response is delivered at once");
        assertEquals(VirtioScsiResponse.FUNCTION_COMPLETE, sink.byToken(50).status());

        clock.advance(LATENCY);
        assertEquals(1, hbaA.poll(0));
        assertEquals(1, hbaA.poll(1));
        assertEquals(VirtioScsiResponse.OK, ScsiIo.response(sink.byToken(11).status()));
        assertEquals(VirtioScsiResponse.ABORTED, ScsiIo.response(sink.byToken(12).status()));
        assertEquals(0, sink.byToken(12).length());
        assertEquals(1, store0.version(3));
        assertEquals(0, store0.version(4), "the aborted write never reached the medium");

        // Aborting a task that already finished (or never existed) still completes the function.
        assertTrue(hbaA.taskManagement(0, ScsiCard.TMF_ABORT_TASK, 0, 0, 1, 51, sink));
        hbaA.poll(0);
        assertEquals(VirtioScsiResponse.FUNCTION_COMPLETE, sink.byToken(51).status());
    }

    /** virtio-scsi: a command cancelled by a reset TMF answers RESET (Linux: DID_RESET, retried), not ABORTED. */
    @Test
    void logicalUnitResetEndsEveryTaskOnTheLunOnlyWithReset()
    {
        assertTrue(hbaA.submit(0, write(0, 0, 1, 1, (byte)1), 1, sink));
        assertTrue(hbaA.submit(1, write(0, 0, 2, 2, (byte)1), 2, sink));
        assertTrue(hbaA.submit(0, write(0, 1, 3, 3, (byte)1), 3, sink));
        assertTrue(hbaB.submit(0, write(0, 0, 4, 4, (byte)1), 4, sink));
        assertTrue(hbaA.taskManagement(1, ScsiCard.TMF_LOGICAL_UNIT_RESET, 0, 0, 0, 60, sink));
        clock.advance(LATENCY);
        hbaA.poll(0);
        hbaA.poll(1);
        hbaB.poll(0);
        assertEquals(VirtioScsiResponse.FUNCTION_COMPLETE, sink.byToken(60).status());
        assertEquals(VirtioScsiResponse.RESET, ScsiIo.response(sink.byToken(1).status()));
        assertEquals(VirtioScsiResponse.RESET, ScsiIo.response(sink.byToken(2).status()));
        assertEquals(0, sink.byToken(1).length());
        assertEquals(0, store0.version(1), "the reset write never reached the medium");
        assertEquals(VirtioScsiResponse.OK, ScsiIo.response(sink.byToken(3).status()), "other LUN untouched");
        assertEquals(VirtioScsiResponse.OK, ScsiIo.response(sink.byToken(4).status()), "other path's tasks are its own");
    }

    @Test
    void nexusResetEndsTheTargetsTasksWithReset()
    {
        assertTrue(hbaA.submit(0, write(0, 0, 1, 1, (byte)1), 1, sink));
        assertTrue(hbaA.submit(0, write(0, 1, 2, 2, (byte)1), 2, sink));
        assertTrue(hbaA.submit(0, write(1, 0, 3, 3, (byte)1), 3, sink));
        assertTrue(hbaA.taskManagement(0, ScsiCard.TMF_I_T_NEXUS_RESET, 0, 0, 0, 70, sink));
        clock.advance(LATENCY);
        hbaA.poll(0);
        assertEquals(VirtioScsiResponse.RESET, ScsiIo.response(sink.byToken(1).status()));
        assertEquals(VirtioScsiResponse.RESET, ScsiIo.response(sink.byToken(2).status()));
        assertEquals(VirtioScsiResponse.OK, ScsiIo.response(sink.byToken(3).status()));
    }

    @Test
    void tmfResponseCodes()
    {
        assertTrue(hbaA.taskManagement(0, ScsiCard.TMF_LOGICAL_UNIT_RESET, 0, 9, 0, 1, sink));
        assertTrue(hbaA.taskManagement(0, ScsiCard.TMF_ABORT_TASK, 3, 0, 0, 2, sink));
        assertTrue(hbaA.taskManagement(0, 42, 0, 0, 0, 3, sink));
        assertTrue(hbaA.taskManagement(0, ScsiCard.TMF_I_T_NEXUS_RESET, 1, 99, 0, 4, sink));
        hbaA.poll(0);
        assertEquals(VirtioScsiResponse.INCORRECT_LUN, sink.byToken(1).status());
        assertEquals(VirtioScsiResponse.BAD_TARGET, sink.byToken(2).status());
        assertEquals(VirtioScsiResponse.FUNCTION_REJECTED, sink.byToken(3).status());
        assertEquals(VirtioScsiResponse.FUNCTION_COMPLETE, sink.byToken(4).status(), "a nexus reset ignores the LUN");
    }

    @Test
    void fenceCancelsWithoutTouchingMemory()
    {
        assertTrue(hbaA.submit(0, read(0, 0, 1, 0), 1, sink));
        assertTrue(hbaA.submit(1, write(0, 0, 2, 9, (byte)9), 2, sink));
        hbaA.fence();
        assertFalse(hbaA.submit(0, read(0, 0, 3, 0), 3, sink));
        assertFalse(hbaA.taskManagement(0, ScsiCard.TMF_ABORT_TASK, 0, 0, 1, 4, sink));
        clock.advance(LATENCY);
        assertEquals(1, hbaA.poll(0));
        assertEquals(1, hbaA.poll(1));
        assertEquals(VirtioScsiResponse.RESET, ScsiIo.response(sink.byToken(1).status()));
        assertEquals(VirtioScsiResponse.RESET, ScsiIo.response(sink.byToken(2).status()));
        assertEquals(0x77, memory.getByte(IN + 512), "the read never wrote the guest buffer");
        assertEquals(0, store0.version(9), "the write never read it");
        assertEquals(0, hbaA.inFlight(0) + hbaA.inFlight(1));

        hbaA.unfence();
        assertTrue(hbaA.submit(0, read(0, 0, 5, 0), 5, sink));
        clock.advance(LATENCY);
        hbaA.poll(0);
        assertEquals(VirtioScsiResponse.OK, ScsiIo.response(sink.byToken(5).status()));
    }

    @Test
    void faults()
    {
        final List<Boolean> links = new ArrayList<>();
        hbaA.setEventListener(new CardEventListener()
        {
            public void onLinkChange(final Card card, final boolean up)
            {
                links.add(up);
            }

            public void onCardError(final Card card, final int code)
            {
            }
        });

        hbaA.inject(CardFault.LINK_DOWN, 0);
        assertTrue(hbaA.submit(0, read(0, 0, 1, 0), 1, sink));
        clock.advance(LATENCY);
        hbaA.poll(0);
        assertEquals(VirtioScsiResponse.TRANSPORT_FAILURE, ScsiIo.response(sink.byToken(1).status()));
        assertEquals(0x77, memory.getByte(IN + 512));
        hbaA.heal();
        assertEquals(List.of(false, true), links);

        hbaA.inject(CardFault.HANG, 0);
        assertTrue(hbaA.submit(0, read(0, 0, 2, 0), 2, sink));
        clock.advance(100 * LATENCY);
        assertEquals(0, hbaA.poll(0));
        assertTrue(hbaA.isLinkUp());
        hbaA.heal();
        assertEquals(1, hbaA.poll(0));

        hbaA.inject(CardFault.SLOW, 3);
        assertTrue(hbaA.submit(0, read(0, 0, 3, 0), 3, sink));
        clock.advance(2 * LATENCY);
        assertEquals(0, hbaA.poll(0));
        clock.advance(LATENCY);
        assertEquals(1, hbaA.poll(0));

        hbaA.inject(CardFault.ERROR_BURST, 1);
        assertTrue(hbaA.submit(0, read(0, 0, 4, 0), 4, sink));
        assertTrue(hbaA.submit(0, read(0, 0, 5, 0), 5, sink));
        clock.advance(LATENCY);
        assertEquals(2, hbaA.poll(0));
        final int failed = (ScsiIo.response(sink.byToken(4).status()) == VirtioScsiResponse.TRANSPORT_FAILURE ? 1 : 0) +
            (ScsiIo.response(sink.byToken(5).status()) == VirtioScsiResponse.TRANSPORT_FAILURE ? 1 : 0);
        assertEquals(1, failed);
        assertEquals(2, hbaA.pathFailures());

        hbaA.inject(CardFault.FAIL_STOP, 0);
        assertFalse(hbaA.submit(0, read(0, 0, 6, 0), 6, sink));
        assertFalse(hbaA.isLinkUp());
    }

    @Test
    void zombieCompletesLateAfterTheFenceWithoutDma()
    {
        hbaA.inject(CardFault.ZOMBIE, 3 * LATENCY);
        assertTrue(hbaA.submit(0, read(0, 0, 1, 0), 1, sink));
        clock.advance(10 * LATENCY);
        assertEquals(0, hbaA.poll(0));
        hbaA.fence();
        clock.advance(2 * LATENCY);
        assertEquals(0, hbaA.poll(0));
        clock.advance(LATENCY);
        assertEquals(1, hbaA.poll(0));
        assertEquals(STATUS_GOOD, ScsiIo.scsiStatus(sink.only().status()));
        assertEquals(0x77, memory.getByte(IN + 512), "no DMA after the fence");
    }

    @Test
    void fullSinkKeepsTheCompletionAndQueueDepthBounds()
    {
        for (int i = 0; i < hbaA.queueDepth(); i++)
        {
            assertTrue(hbaA.submit(0, read(0, 0, i, 0), i, sink));
        }
        assertFalse(hbaA.submit(0, read(0, 0, 9, 0), 9, sink), "queue full");
        assertFalse(hbaA.submit(7, read(0, 0, 9, 0), 9, sink), "no such queue");
        sink.full = true;
        clock.advance(LATENCY);
        assertEquals(0, hbaA.poll(0));
        assertEquals(4, hbaA.inFlight(0));
        sink.full = false;
        assertEquals(4, hbaA.poll(0));
        assertEquals(4, sink.completions.size());
        assertEquals(4, hbaA.commandsSubmitted());
    }
}
