package dev.braid.virtio.blk;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.virtio.device.FuzzChain;
import dev.braid.virtio.device.TestChain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlkRequestParserFuzzTest
{
    private static final FuzzChain INPUT = new FuzzChain();
    private static final BlkRequestParser PARSER = new BlkRequestParser();
    private static final BlkRequest REQUEST = new BlkRequest();

    /** Options byte: bit 0 read-only, bit 1 flush, bit 2 discard, bit 3 write zeroes; bits 4-7 capacity. */
    @FuzzTest(maxDuration = "30s")
    void parse(final byte[] data)
    {
        if (!INPUT.load(data))
        {
            return;
        }
        final int options = INPUT.options;
        PARSER.capacity(((options >>> 4) + 1L) * 8)
            .readOnly((options & 1) != 0)
            .flush((options & 2) != 0)
            .discard((options & 4) != 0, 16, 2)
            .writeZeroes((options & 8) != 0, 16, 3);

        final int status = PARSER.parse(INPUT.memory, INPUT.chain, REQUEST);

        assertTrue(VirtioBlk.isValidStatus(status), "status " + status);
        assertEquals(status, REQUEST.status());
        switch (REQUEST.outcome())
        {
            case BlkRequest.SUBMIT:
                assertEquals(VirtioBlk.VIRTIO_BLK_S_OK, status);
                assertTrue(TestChain.rangeInside(INPUT.chain, REQUEST.dataSegment(), REQUEST.dataOffset(),
                    REQUEST.dataLength(), REQUEST.isDataWritable()), REQUEST.toString());
                assertTrue(REQUEST.hasStatusByte());
                break;
            case BlkRequest.COMPLETE:
                assertTrue(status != VirtioBlk.VIRTIO_BLK_S_OK);
                assertTrue(REQUEST.hasStatusByte());
                break;
            case BlkRequest.COMPLETE_NO_STATUS:
                assertEquals(0, REQUEST.usedLength(0));
                break;
            default:
                throw new AssertionError("outcome " + REQUEST.outcome());
        }
        if (REQUEST.hasStatusByte())
        {
            final int last = INPUT.chain.segmentCount() - 1;
            assertEquals(INPUT.chain.address(last) + INPUT.chain.length(last) - 1, REQUEST.statusGpa());
            assertTrue(INPUT.memory.isValidRange(REQUEST.statusGpa(), 1));
        }
    }
}
