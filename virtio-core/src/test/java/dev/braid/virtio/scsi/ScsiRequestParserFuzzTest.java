package dev.braid.virtio.scsi;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.virtio.device.FuzzChain;
import dev.braid.virtio.device.TestChain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScsiRequestParserFuzzTest
{
    private static final FuzzChain INPUT = new FuzzChain();
    private static final ScsiRequestParser PARSER = new ScsiRequestParser();
    private static final ScsiRequest REQUEST = new ScsiRequest();

    /** Options byte: bit 0 INOUT; bits 1-7 pick cdb_size (bits 1-3: 6 + 2n) and sense_size (bits 4-7: 4n). */
    private static void configure(final int options)
    {
        PARSER.inout((options & 1) != 0).sizes(6 + 2 * ((options >>> 1) & 7), 4 * (options >>> 4)).limits(3, 15);
    }

    @FuzzTest(maxDuration = "30s")
    void command(final byte[] data)
    {
        if (!INPUT.load(data))
        {
            return;
        }
        configure(INPUT.options);
        final int response = PARSER.parseCommand(INPUT.memory, INPUT.chain, REQUEST);
        check(response);
        if (REQUEST.outcome() == ScsiRequest.SUBMIT)
        {
            assertTrue(TestChain.rangeInside(INPUT.chain, REQUEST.dataOutSegment(), REQUEST.dataOutOffset(),
                REQUEST.dataOutLength(), false), REQUEST.toString());
            assertTrue(TestChain.rangeInside(INPUT.chain, REQUEST.dataInSegment(), REQUEST.dataInOffset(),
                REQUEST.dataInLength(), true), REQUEST.toString());
            assertTrue(REQUEST.target() <= 3 && REQUEST.lun() <= 15);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void control(final byte[] data)
    {
        if (!INPUT.load(data))
        {
            return;
        }
        configure(INPUT.options);
        check(PARSER.parseControl(INPUT.memory, INPUT.chain, REQUEST));
    }

    private static void check(final int response)
    {
        assertTrue(VirtioScsi.isValidResponse(response), "response " + response);
        assertEquals(response, REQUEST.response());
        final int used = PARSER.writeResponse(INPUT.memory, INPUT.chain, REQUEST);
        switch (REQUEST.outcome())
        {
            case ScsiRequest.SUBMIT:
                assertEquals(VirtioScsi.VIRTIO_SCSI_S_OK, response);
                assertEquals(REQUEST.responseLength(), used);
                break;
            case ScsiRequest.COMPLETE:
                assertTrue(response != VirtioScsi.VIRTIO_SCSI_S_OK);
                assertEquals(REQUEST.responseLength(), used, "a response that fits must be written");
                break;
            case ScsiRequest.COMPLETE_NO_RESPONSE:
                assertEquals(0, used);
                break;
            default:
                throw new AssertionError("outcome " + REQUEST.outcome());
        }
    }
}
