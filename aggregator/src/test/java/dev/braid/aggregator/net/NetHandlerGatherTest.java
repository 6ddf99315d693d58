package dev.braid.aggregator.net;

import dev.braid.aggregator.RequestHandler;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.NetTxParser;
import dev.braid.virtio.queue.DescriptorChain;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The rx and tx handlers hand a chain's buffers to the card as they are: every non-empty segment
 * becomes one vector entry, and a chain with more of them than the vector holds is refused.
 */
class NetHandlerGatherTest
{
    private static final int MAX_SEGMENTS = 2;

    private final GuestMemory memory = GuestMemory.allocate(1 << 16);
    private final DescriptorChain chain = new DescriptorChain(8);

    @Test
    void rxTakesEveryNonEmptyWritableSegmentUpToTheVectorSize()
    {
        final NetRxHandler rx = new NetRxHandler(memory, 4, MAX_SEGMENTS);
        chain.reset(0);
        chain.add(0x1000, 100, true);
        chain.add(0x2000, 0, true);
        chain.add(0x3000, 50, true);
        assertEquals(RequestHandler.SUBMIT, rx.prepare(0, chain));
        assertVector(rx.frame(0).data(), 0x1000, 100, 0x3000, 50);

        chain.reset(1);
        chain.add(0x1000, 100, true);
        chain.add(0x2000, 10, true);
        chain.add(0x3000, 50, true);
        assertEquals(0, rx.prepare(1, chain));
        assertEquals(1, rx.badBuffers());
    }

    @Test
    void txTakesEveryNonEmptyReadableSegmentUpToTheVectorSize()
    {
        final NetTxHandler tx = new NetTxHandler(memory, new NetTxParser(), 4, MAX_SEGMENTS, null);
        chain.reset(0);
        chain.add(0x1000, 12, false); // the all-zero virtio-net header
        chain.add(0x2000, 0, false);
        chain.add(0x3000, 60, false);
        assertEquals(RequestHandler.SUBMIT, tx.prepare(0, chain));
        assertVector(tx.frame(0).data(), 0x1000, 12, 0x3000, 60);

        chain.reset(1);
        chain.add(0x1000, 12, false);
        chain.add(0x3000, 30, false);
        chain.add(0x4000, 30, false);
        assertEquals(0, tx.prepare(1, chain));
        assertEquals(1, tx.dropped());
    }

    private static void assertVector(final IoVector v, final long gpa0, final int length0, final long gpa1, final int length1)
    {
        assertEquals(2, v.count());
        assertEquals(gpa0, v.address(0));
        assertEquals(length0, v.length(0));
        assertEquals(gpa1, v.address(1));
        assertEquals(length1, v.length(1));
    }
}
