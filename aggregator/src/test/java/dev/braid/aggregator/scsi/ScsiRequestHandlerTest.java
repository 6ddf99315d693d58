package dev.braid.aggregator.scsi;

import dev.braid.aggregator.RequestHandler;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.VirtualClock;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import dev.braid.sim.scsi.SimHba;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.SplitQueue;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.ScsiRequestParser;
import dev.braid.virtio.scsi.VirtioScsi;
import dev.braid.virtio.scsi.emulator.BlockScsiCard;
import dev.braid.virtio.scsi.emulator.ScsiDiskEmulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class ScsiRequestHandlerTest
{
    private static final int SIZE = 8;
    private static final int REQ = ScsiDescriptor.cmdReqLength(32);
    private static final int RESP = ScsiDescriptor.cmdRespLength(96);

    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final RingLayout layout = RingLayout.split(0, SIZE, 4);
    private final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, true);
    private final SplitQueue queue = new SplitQueue(memory, SIZE, layout.descGpa(), layout.availGpa(), layout.usedGpa(), true, true);
    private final ScsiTaskTable tasks = new ScsiTaskTable(1, SIZE);
    private final ScsiRequestHandler handler = new ScsiRequestHandler(
        memory, new ScsiRequestParser().sizes(32, 96).limits(0, 0), tasks, 0, SIZE, 4);
    private final VirtualClock clock = new VirtualClock();
    private final SimHba hba = new SimHba("hba", clock, new SimTarget[]{ new SimTarget(
        new SimLun(new SharedBlockStore(64), new AtomicLong(), "BRAID0001", 1)) }, 1, 8, 0);
    private final DescriptorChain chain = new DescriptorChain(16);
    private final long reqGpa = 0x10000;
    private final long respGpa = 0x11000;
    private final long dataGpa = 0x12000;
    private int lastStatus = -1;
    private int lastLength = -1;

    @Test
    void transportFailuresAreReplayedButNotWhatTheLunAnswered()
    {
        assertTrue(ScsiResult.isTransportFailure(CardStatus.CANCELLED));
        assertTrue(ScsiResult.isTransportFailure(CardStatus.IO_ERROR));
        assertTrue(ScsiResult.isTransportFailure(ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_TRANSPORT_FAILURE, 0)));
        assertTrue(ScsiResult.isTransportFailure(ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_RESET, 0)));
        assertFalse(ScsiResult.isTransportFailure(ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_OK, 0)));
        assertFalse(ScsiResult.isTransportFailure(ScsiIo.packResult(2, VirtioScsi.VIRTIO_SCSI_S_OK, 18)), "CHECK CONDITION");
        assertFalse(ScsiResult.isTransportFailure(ScsiIo.packResult(8, VirtioScsi.VIRTIO_SCSI_S_OK, 0)), "BUSY status");
        assertFalse(ScsiResult.isTransportFailure(ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_TARGET_FAILURE, 0)));
        assertFalse(ScsiResult.isTransportFailure(ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_ABORTED, 0)));
        assertFalse(ScsiResult.isTransportFailure(ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_BUSY, 0)));
    }

    @Test
    void checkConditionGoesToTheGuestWithItsSense()
    {
        // A vendor-specific opcode the emulated disk does not know: CHECK CONDITION, ILLEGAL REQUEST.
        final int slot = post(ScsiLun.encode(0, 0), 0xC0, 0, 36);
        assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
        assertEquals(ScsiTaskTable.ACTIVE, ScsiTaskTable.phase(tasks.state(slot)));
        assertTrue(handler.submit(hba, 0, slot, 77, this::capture));
        hba.poll(0);
        assertFalse(handler.isPathFailure(slot, lastStatus));
        assertEquals(RESP, handler.complete(slot, lastStatus, lastLength), "no data-in moved");
        assertEquals(2, memory.getByte(respGpa + ScsiDescriptor.RESP_STATUS_OFFSET));
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, memory.getByte(respGpa + ScsiDescriptor.RESP_RESPONSE_OFFSET));
        assertEquals(18, memory.getInt(respGpa + ScsiDescriptor.RESP_SENSE_LEN_OFFSET));
        assertEquals(36, memory.getInt(respGpa + ScsiDescriptor.RESP_RESID_OFFSET), "resid = expected - transferred");
        assertEquals(0x70, memory.getByte(respGpa + ScsiDescriptor.RESP_SENSE_OFFSET) & 0xFF);
        assertEquals(5, memory.getByte(respGpa + ScsiDescriptor.RESP_SENSE_OFFSET + 2), "ILLEGAL REQUEST");
        assertEquals(ScsiTaskTable.COMPLETING, ScsiTaskTable.phase(tasks.state(slot)));
        handler.onPublished();
        assertEquals(ScsiTaskTable.FREE, ScsiTaskTable.phase(tasks.state(slot)));
        assertEquals(1, ScsiTaskTable.generation(tasks.state(slot)));
    }

    @Test
    void readReportsDataInBytesInUsedLength()
    {
        final int slot = post(ScsiLun.encode(0, 0), 0x28, 3, 1024);
        assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
        assertTrue(handler.submit(hba, 0, slot, 78, this::capture));
        hba.poll(0);
        assertEquals(0, lastStatus);
        assertEquals(RESP + 1024, handler.complete(slot, lastStatus, lastLength));
        assertEquals(0, memory.getInt(respGpa + ScsiDescriptor.RESP_RESID_OFFSET));
        assertEquals(0, memory.getInt(respGpa + ScsiDescriptor.RESP_SENSE_LEN_OFFSET));
    }

    @Test
    void badLunEncodingIsAnsweredLocallyWithBadTarget()
    {
        final int slot = post(ScsiLun.encode(0, 0) | 0xFFL << 40, 0x28, 0, 512);
        assertEquals(RESP, handler.prepare(slot, chain));
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_BAD_TARGET, memory.getByte(respGpa + ScsiDescriptor.RESP_RESPONSE_OFFSET));
        assertEquals(512, memory.getInt(respGpa + ScsiDescriptor.RESP_RESID_OFFSET));
        assertEquals(ScsiTaskTable.FREE, ScsiTaskTable.phase(tasks.state(slot)), "never entered the table");
    }

    /** Ended by the control queue before any card started it: ABORTED after ABORT TASK, RESET after a reset. */
    @Test
    void aTaskEndedWhileWaitingIsNeverStartedAndAnswersWhyItEnded()
    {
        for (final boolean reset : new boolean[]{ false, true })
        {
            final int slot = post(ScsiLun.encode(0, 0), 0x2A, 0, 512);
            assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
            assertTrue(reset ? tasks.markReset(slot, tasks.state(slot)) : tasks.markAborted(slot, tasks.state(slot)));
            assertTrue(handler.submit(hba, 0, slot, 79, this::capture));
            assertEquals(reset ? ScsiResult.RESET : ScsiResult.ABORTED, lastStatus, "answered without the card");
            assertEquals(0, hba.commandsSubmitted());
            assertFalse(handler.isPathFailure(slot, lastStatus), "not replayed");
            assertEquals(RESP, handler.complete(slot, lastStatus, 0));
            assertEquals(reset ? VirtioScsi.VIRTIO_SCSI_S_RESET : VirtioScsi.VIRTIO_SCSI_S_ABORTED, response());
            assertEquals(512, memory.getInt(respGpa + ScsiDescriptor.RESP_RESID_OFFSET));
            retire(slot);
        }
    }

    @Test
    void aResetAfterAnAbortAnswersReset()
    {
        final int slot = post(ScsiLun.encode(0, 0), 0x2A, 0, 512);
        assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
        final int opened = tasks.state(slot);
        assertTrue(tasks.markAborted(slot, tasks.state(slot)));
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_ABORTED, tasks.endedResponse(slot));
        assertTrue(tasks.markReset(slot, tasks.state(slot)));
        assertTrue(tasks.markAborted(slot, tasks.state(slot)), "already ended");
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_RESET, tasks.endedResponse(slot), "a reset's RESET is kept");
        assertTrue(tasks.isEnded(slot));
        assertTrue(ScsiTaskTable.sameLife(opened, tasks.state(slot)), "the marks do not start a new life");
        assertEquals(ScsiTaskTable.ACTIVE, ScsiTaskTable.phase(tasks.state(slot)));
    }

    /** SimHba ends the tasks a reset covers itself: RESET, which goes to the guest and is not replayed. */
    @Test
    void aTaskTheHbaEndedForALunResetAnswersReset()
    {
        final int slot = post(ScsiLun.encode(0, 0), 0x2A, 0, 512);
        assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
        assertTrue(handler.submit(hba, 0, slot, 80, this::capture));
        // The control queue marks first, then relays the TMF to the card.
        assertTrue(tasks.markReset(slot, tasks.state(slot)));
        assertTrue(hba.taskManagement(0, ScsiCard.TMF_LOGICAL_UNIT_RESET, 0, 0, 0, 81, (t, s, l) -> true));
        hba.poll(0);
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_RESET, ScsiIo.response(lastStatus), "the HBA's own answer");
        assertFalse(handler.isPathFailure(slot, lastStatus));
        assertEquals(RESP, handler.complete(slot, lastStatus, lastLength));
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_RESET, response());
    }

    /** A card that answers ABORTED for a task a reset ended: the device still answers RESET, as the spec asks. */
    @Test
    void aCardsAbortedForAResetEndedTaskAnswersReset()
    {
        final int slot = post(ScsiLun.encode(0, 0), 0x2A, 0, 512);
        assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
        assertTrue(handler.submit(hba, 0, slot, 82, this::capture));
        assertTrue(tasks.markReset(slot, tasks.state(slot)));
        assertFalse(handler.isPathFailure(slot, ScsiResult.ABORTED));
        assertEquals(RESP, handler.complete(slot, ScsiResult.ABORTED, 0));
        assertEquals(VirtioScsi.VIRTIO_SCSI_S_RESET, response());
    }

    /**
     * A BlockScsiCard cannot recall a command: a task a TMF ended on it comes back when its block card
     * finishes it or its fence cancels it (RESET, a path failure). That cancel is not replayed: the task
     * answers ABORTED after ABORT TASK, RESET after a reset.
     */
    @Test
    void aTaskEndedOnAFencedBlockScsiCardAnswersWhyItEnded()
    {
        for (final boolean reset : new boolean[]{ false, true })
        {
            final SimDisk disk = SimDisk.builder("disk", new SharedBlockStore(64)).clock(clock).build();
            final BlockScsiCard card = new BlockScsiCard(disk, ScsiDiskEmulator.forBlockMedium(64, "BRAID0001", 1));
            final int slot = post(ScsiLun.encode(0, 0), 0x2A, 0, 512);
            assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
            assertTrue(handler.submit(card, 0, slot, 83, this::capture));
            assertEquals(1, card.onMedium());
            assertTrue(reset ? tasks.markReset(slot, tasks.state(slot)) : tasks.markAborted(slot, tasks.state(slot)));
            card.fence();
            card.poll(0);
            assertEquals(VirtioScsi.VIRTIO_SCSI_S_RESET, ScsiIo.response(lastStatus), "the fence's cancel");
            assertFalse(handler.isPathFailure(slot, lastStatus), "an ended task is not replayed");
            assertEquals(RESP, handler.complete(slot, lastStatus, lastLength));
            assertEquals(reset ? VirtioScsi.VIRTIO_SCSI_S_RESET : VirtioScsi.VIRTIO_SCSI_S_ABORTED, response());
            retire(slot);
        }
    }

    @Test
    void aFencesCancelOfATaskNoTmfEndedIsReplayed()
    {
        final int slot = post(ScsiLun.encode(0, 0), 0x2A, 0, 512);
        assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
        assertTrue(handler.isPathFailure(slot, ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_RESET, 0)));
        assertTrue(handler.isPathFailure(slot, CardStatus.CANCELLED));
    }

    /** How a task ended before fail(): not at all, by ABORT TASK, by a reset. */
    enum EndedBy
    {
        NOTHING(VirtioScsi.VIRTIO_SCSI_S_TRANSPORT_FAILURE),
        ABORT(VirtioScsi.VIRTIO_SCSI_S_ABORTED),
        RESET(VirtioScsi.VIRTIO_SCSI_S_RESET);

        final int response;

        EndedBy(final int response)
        {
            this.response = response;
        }
    }

    @ParameterizedTest
    @EnumSource(EndedBy.class)
    void failWithNoPathIsATransportFailureUnlessATmfEndedTheTask(final EndedBy endedBy)
    {
        // After an earlier task that an abort ended and the driver got back: fail() answers from this task alone.
        final int earlier = post(ScsiLun.encode(0, 0), 0x2A, 0, 512);
        assertEquals(RequestHandler.SUBMIT, handler.prepare(earlier, chain));
        assertTrue(tasks.markAborted(earlier, tasks.state(earlier)));
        assertEquals(RESP, handler.fail(earlier));
        retire(earlier);

        final int slot = post(ScsiLun.encode(0, 0), 0x2A, 0, 512);
        assertEquals(RequestHandler.SUBMIT, handler.prepare(slot, chain));
        switch (endedBy)
        {
            case ABORT -> assertTrue(tasks.markAborted(slot, tasks.state(slot)));
            case RESET -> assertTrue(tasks.markReset(slot, tasks.state(slot)));
            default ->
            {
            }
        }
        assertEquals(RESP, handler.fail(slot));
        assertEquals(endedBy.response, response());
    }

    /** Hands a completed request back to the driver, as the front queue does, so its descriptors are free again. */
    private void retire(final int slot)
    {
        queue.addUsed(slot, RESP);
        queue.publishUsed();
        handler.onPublished();
        assertEquals(1, driver.reap((id, length) -> assertEquals(slot, id)));
        assertEquals(ScsiTaskTable.FREE, ScsiTaskTable.phase(tasks.state(slot)));
    }

    private int response()
    {
        return memory.getByte(respGpa + ScsiDescriptor.RESP_RESPONSE_OFFSET);
    }

    private boolean capture(final long token, final int status, final int length)
    {
        lastStatus = status;
        lastLength = length;
        return true;
    }

    /** Posts one command (write if opcode is WRITE, else data-in) and pops it into {@link #chain}. */
    private int post(final long lunField, final int opcode, final long lba, final int dataBytes)
    {
        memory.setMemory(reqGpa, REQ, (byte)0);
        memory.putLong(reqGpa + ScsiDescriptor.CMD_LUN_OFFSET, lunField);
        memory.putLong(reqGpa + ScsiDescriptor.CMD_ID_OFFSET, 0xABCDL);
        memory.putByte(reqGpa + ScsiDescriptor.CMD_CDB_OFFSET, (byte)opcode);
        if (opcode == 0x28 || opcode == 0x2A)
        {
            memory.putByte(reqGpa + ScsiDescriptor.CMD_CDB_OFFSET + 5, (byte)lba);
            memory.putByte(reqGpa + ScsiDescriptor.CMD_CDB_OFFSET + 8, (byte)(dataBytes / 512));
        }
        else
        {
            memory.putByte(reqGpa + ScsiDescriptor.CMD_CDB_OFFSET + 4, (byte)dataBytes);
        }
        memory.setMemory(respGpa, RESP, (byte)0xFF);
        final BufferChain buffers = new BufferChain(4).readable(reqGpa, REQ);
        if (opcode == 0x2A)
        {
            buffers.readable(dataGpa, dataBytes).writable(respGpa, RESP);
        }
        else
        {
            buffers.writable(respGpa, RESP).writable(dataGpa, dataBytes);
        }
        final int id = driver.addChain(buffers, false);
        driver.publish();
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(id, chain.id());
        return id;
    }
}
