package dev.braid.aggregator.net;

import dev.braid.aggregator.RequestHandler;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.NetTxParser;
import dev.braid.virtio.queue.DescriptorChain;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import java.util.function.ToIntBiFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The rx and tx handlers hand a chain's buffers to the card as they are: every non-empty segment
 * (writable for rx, readable for tx) becomes one vector entry, and a chain with more of them than
 * the vector holds is refused and counted.
 */
class NetHandlerGatherTest
{
    private static final int MAX_SEGMENTS = 2;
    // Tx: the first 12 bytes are the all-zero virtio-net header; rx: any buffer over 26 bytes.
    private static final int FIRST = 12;
    private static final int LAST = 60;

    record Handler(
        String name,
        boolean writable,
        ToIntBiFunction<Integer, DescriptorChain> prepare,
        IntFunction<NetFrame> frame,
        LongSupplier refused)
    {
        public String toString()
        {
            return name;
        }
    }

    static Stream<Arguments> handlers()
    {
        final GuestMemory memory = GuestMemory.allocate(1 << 16);
        final NetRxHandler rx = new NetRxHandler(memory, 4, MAX_SEGMENTS);
        final NetTxHandler tx = new NetTxHandler(memory, new NetTxParser(), 4, MAX_SEGMENTS, null);
        return Stream.of(
            Arguments.of(new Handler("rx", true, rx::prepare, rx::frame, rx::badBuffers)),
            Arguments.of(new Handler("tx", false, tx::prepare, tx::frame, tx::dropped)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("handlers")
    void takesEveryNonEmptySegmentUpToTheVectorSize(final Handler handler)
    {
        final DescriptorChain chain = new DescriptorChain(8);
        chain.reset(0);
        chain.add(0x1000, FIRST, handler.writable());
        chain.add(0x2000, 0, handler.writable());
        chain.add(0x3000, LAST, handler.writable());
        assertEquals(RequestHandler.SUBMIT, handler.prepare().applyAsInt(0, chain));
        final IoVector v = handler.frame().apply(0).data();
        assertEquals(2, v.count());
        assertEquals(0x1000, v.address(0));
        assertEquals(FIRST, v.length(0));
        assertEquals(0x3000, v.address(1));
        assertEquals(LAST, v.length(1));
        assertEquals(0, handler.refused().getAsLong());

        chain.reset(1);
        chain.add(0x1000, FIRST, handler.writable());
        chain.add(0x3000, LAST / 2, handler.writable());
        chain.add(0x4000, LAST / 2, handler.writable());
        assertEquals(0, handler.prepare().applyAsInt(1, chain));
        assertEquals(1, handler.refused().getAsLong());
    }
}
