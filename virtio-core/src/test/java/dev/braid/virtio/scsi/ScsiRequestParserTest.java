package dev.braid.virtio.scsi;

import dev.braid.virtio.device.TestChain;
import org.junit.jupiter.api.Test;

import java.util.function.LongToIntFunction;

import static dev.braid.virtio.scsi.VirtioScsi.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ScsiRequestParserTest
{
    private static final int CDB = 32;
    private static final int SENSE = 96;
    private static final int REQ = 19 + CDB;
    private static final int RESP = 12 + SENSE;

    private final TestChain t = TestChain.create();
    private final ScsiRequestParser parser = new ScsiRequestParser().sizes(CDB, SENSE).limits(3, 7);
    private final ScsiRequest request = new ScsiRequest();

    static byte[] cmd(final long lun, final long tag, final int opcode)
    {
        final byte[] cdb = new byte[CDB];
        cdb[0] = (byte)opcode;
        cdb[CDB - 1] = 0x5A;
        return TestChain.le(REQ).putLong(lun).putLong(tag).put((byte)0).put((byte)1).put((byte)2).put(cdb).array();
    }

    static byte[] tmf(final int subtype, final long lun, final long tag)
    {
        return TestChain.le(24).putInt(VIRTIO_SCSI_T_TMF).putInt(subtype).putLong(lun).putLong(tag).array();
    }

    static byte[] an(final int type, final long lun, final int events)
    {
        return TestChain.le(16).putInt(type).putLong(lun).putInt(events).array();
    }

    private int command()
    {
        return parser.parseCommand(t.memory, t.chain, request);
    }

    private int control()
    {
        return parser.parseControl(t.memory, t.chain, request);
    }

    /**
     * Control chain {@code id} addresses a target that does not exist: BAD_TARGET, and the written
     * response uses all {@code responseLength} bytes and carries BAD_TARGET in its response field.
     */
    private void assertBadTarget(
        final int id, final byte[] requestBytes, final int responseLength, final LongToIntFunction responseField)
    {
        t.start(id);
        t.readable(requestBytes);
        final long resp = t.writable(responseLength);
        assertEquals(VIRTIO_SCSI_S_BAD_TARGET, control());
        assertEquals(responseLength, parser.writeResponse(t.memory, t.chain, request));
        assertEquals(VIRTIO_SCSI_S_BAD_TARGET, responseField.applyAsInt(resp));
    }

    /** Control chain {@code id}: the request bytes, then {@code writable} response bytes; parsed. */
    private int nextControl(final int id, final byte[] requestBytes, final int writable)
    {
        t.start(id);
        t.readable(requestBytes);
        t.writable(writable);
        return control();
    }

    @Test
    void readCommand()
    {
        t.readable(cmd(ScsiLun.encode(2, 5), 77, 0x28));
        final long resp = t.writable(RESP);
        t.writable(4096);

        assertEquals(VIRTIO_SCSI_S_OK, command());
        assertEquals(ScsiRequest.SUBMIT, request.outcome());
        assertEquals(ScsiRequest.KIND_CMD, request.kind());
        assertEquals(2, request.target());
        assertEquals(5, request.lun());
        assertEquals(77, request.tag());
        assertEquals(1, request.prio());
        assertEquals(2, request.crn());
        assertEquals(0x28, request.opcode());
        assertEquals(0x5A, request.cdb(CDB - 1));
        assertEquals(CDB, request.cdbLength());
        assertEquals(0, request.dataOutLength());
        assertEquals(2, request.dataInSegment());
        assertEquals(0, request.dataInOffset());
        assertEquals(4096, request.dataInLength());
        assertEquals(RESP, request.responseLength());
        assertEquals(resp, t.chain.address(1));
    }

    @Test
    void writeCommandWithSplitHeaderAndSharedSegments()
    {
        final byte[] all = new byte[REQ + 1024];
        System.arraycopy(cmd(ScsiLun.encode(0, 0), 1, 0x2A), 0, all, 0, REQ);
        t.readableSplit(all, 7, 30);
        t.writable(RESP);

        assertEquals(VIRTIO_SCSI_S_OK, command());
        assertEquals(0x2A, request.opcode());
        assertEquals(2, request.dataOutSegment());
        assertEquals(REQ - 30, request.dataOutOffset());
        assertEquals(1024, request.dataOutLength());
        assertEquals(0, request.dataInLength());
    }

    @Test
    void dataInMaySharesTheResponseSegment()
    {
        t.readable(cmd(ScsiLun.encode(0, 0), 1, 0x12));
        t.writable(RESP + 36);
        assertEquals(VIRTIO_SCSI_S_OK, command());
        assertEquals(1, request.dataInSegment());
        assertEquals(RESP, request.dataInOffset());
        assertEquals(36, request.dataInLength());
    }

    @Test
    void noRoomForTheResponse()
    {
        t.readable(cmd(ScsiLun.encode(0, 0), 1, 0));
        t.writable(RESP - 1);
        assertEquals(VIRTIO_SCSI_S_FAILURE, command());
        assertEquals(ScsiRequest.COMPLETE_NO_RESPONSE, request.outcome());
        assertEquals(0, parser.writeResponse(t.memory, t.chain, request));
    }

    @Test
    void shortRequestIsFailureWithAResponse()
    {
        final byte[] shortReq = new byte[REQ - 1];
        System.arraycopy(cmd(ScsiLun.encode(0, 0), 1, 0), 0, shortReq, 0, REQ - 1);
        t.readable(shortReq);
        final long resp = t.writable(RESP);
        assertEquals(VIRTIO_SCSI_S_FAILURE, command());
        assertEquals(ScsiRequest.COMPLETE, request.outcome());
        assertEquals(RESP, parser.writeResponse(t.memory, t.chain, request));
        assertEquals(VIRTIO_SCSI_S_FAILURE, new ScsiCmdResp().wrap(t.memory, resp).response());
        assertEquals(0, new ScsiCmdResp().wrap(t.memory, resp).senseLen());
    }

    @Test
    void badLunsAreBadTarget()
    {
        final long[] bad = {
            ScsiLun.encode(0, 0) & ~0xFFL,        // byte 0 not 1
            ScsiLun.encode(4, 0),                 // target beyond max_target
            ScsiLun.encode(0, 8),                 // lun beyond max_lun
            ScsiLun.encode(0, 0) | 1L << 56,      // trailing bytes
            0x0000_8001L | 0x0100L,               // hierarchical addressing
        };
        for (final long lun : bad)
        {
            t.start(1);
            t.readable(cmd(lun, 1, 0));
            final long resp = t.writable(RESP);
            t.writable(512);
            assertEquals(VIRTIO_SCSI_S_BAD_TARGET, command(), Long.toHexString(lun));
            assertEquals(ScsiRequest.COMPLETE, request.outcome());
            assertEquals(RESP, parser.writeResponse(t.memory, t.chain, request));
            final ScsiCmdResp written = new ScsiCmdResp().wrap(t.memory, resp);
            assertEquals(VIRTIO_SCSI_S_BAD_TARGET, written.response());
            assertEquals(512, written.resid());
        }
    }

    @Test
    void bidirectionalNeedsInout()
    {
        t.readable(cmd(ScsiLun.encode(0, 0), 1, 0));
        t.readable(new byte[512]);
        t.writable(RESP + 512);
        assertEquals(VIRTIO_SCSI_S_FAILURE, command());
        parser.inout(true);
        assertEquals(VIRTIO_SCSI_S_OK, command());
        assertEquals(512, request.dataOutLength());
        assertEquals(512, request.dataInLength());
    }

    @Test
    void configuredSizesAreUsed()
    {
        final ScsiConfig config = new ScsiConfig().maxTarget(0).maxLun(0);
        config.write(ScsiDescriptor.CFG_CDB_SIZE_OFFSET, 4, 16);
        config.write(ScsiDescriptor.CFG_SENSE_SIZE_OFFSET, 4, 20);
        parser.configure(config, 0);
        assertEquals(16, parser.cdbSize());
        assertEquals(20, parser.senseSize());
        t.readable(TestChain.le(19 + 16).putLong(ScsiLun.encode(0, 0)).array());
        t.writable(12 + 20);
        assertEquals(VIRTIO_SCSI_S_OK, command());
        assertEquals(16, request.cdbLength());
    }

    @Test
    void taskManagement()
    {
        t.readable(tmf(VIRTIO_SCSI_T_TMF_ABORT_TASK, ScsiLun.encode(1, 2), 99));
        final long resp = t.writable(1);
        assertEquals(VIRTIO_SCSI_S_OK, control());
        assertEquals(ScsiRequest.KIND_TMF, request.kind());
        assertEquals(VIRTIO_SCSI_T_TMF_ABORT_TASK, request.tmfSubtype());
        assertEquals(99, request.tag());
        assertEquals(1, request.target());
        assertEquals(2, request.lun());

        assertEquals(VIRTIO_SCSI_S_FUNCTION_REJECTED, nextControl(2, tmf(8, ScsiLun.encode(1, 2), 99), 1));
        assertEquals(ScsiRequest.COMPLETE, request.outcome());

        assertBadTarget(3, tmf(VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, 0x2, 0), 1,
            gpa -> new ScsiTmfResp().wrap(t.memory, gpa).response());

        t.start(4);
        t.readableSplit(tmf(VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET, ScsiLun.encode(0, 0), 0), 2, 12);
        t.writable(1);
        assertEquals(VIRTIO_SCSI_S_OK, control());

        assertEquals(VIRTIO_SCSI_S_FAILURE, nextControl(5, new byte[] {0, 0, 0, 0, 5}, 1));
        assertEquals(ScsiRequest.COMPLETE, request.outcome());

        t.start(6);
        t.readable(tmf(VIRTIO_SCSI_T_TMF_ABORT_TASK, ScsiLun.encode(1, 2), 99));
        assertEquals(VIRTIO_SCSI_S_FAILURE, control());
        assertEquals(ScsiRequest.COMPLETE_NO_RESPONSE, request.outcome());
        assertFalse(resp < 0);
    }

    @Test
    void asynchronousNotification()
    {
        t.readable(an(VIRTIO_SCSI_T_AN_SUBSCRIBE, ScsiLun.encode(0, 1), VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE));
        t.writable(5);
        assertEquals(VIRTIO_SCSI_S_OK, control());
        assertEquals(ScsiRequest.KIND_AN_SUBSCRIBE, request.kind());
        assertEquals(VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE, request.eventRequested());

        assertEquals(VIRTIO_SCSI_S_FAILURE, nextControl(1, an(VIRTIO_SCSI_T_AN_QUERY, ScsiLun.encode(0, 1), 0), 4));
        assertEquals(ScsiRequest.COMPLETE_NO_RESPONSE, request.outcome());

        assertBadTarget(2, an(VIRTIO_SCSI_T_AN_QUERY, 0, 0), 5, gpa -> new ScsiAnResp().wrap(t.memory, gpa).response());
    }

    @Test
    void unknownControlTypeHasNoResponse()
    {
        t.readable(TestChain.le(24).putInt(3).array());
        t.writable(8);
        assertEquals(VIRTIO_SCSI_S_FAILURE, control());
        assertEquals(ScsiRequest.COMPLETE_NO_RESPONSE, request.outcome());

        nextControl(1, new byte[3], 8);
        assertEquals(ScsiRequest.COMPLETE_NO_RESPONSE, request.outcome());
    }
}
