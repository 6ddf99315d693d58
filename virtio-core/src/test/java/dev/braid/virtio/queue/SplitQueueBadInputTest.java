package dev.braid.virtio.queue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.BiConsumer;

import static dev.braid.virtio.queue.SplitRingFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * One row per malformed ring a hostile or buggy driver can build: the status pop must return, and
 * whether the queue is broken afterwards. Every row also checks that nothing throws and that the
 * queue either keeps working (chain error) or stays broken until reset (ring error).
 */
class SplitQueueBadInputTest
{
    private static final int SIZE = 8;
    private static final long TABLE = DATA + 0x8000;
    /** Descriptor the "good chain after the bad one" uses; no bad row touches it. */
    private static final int GOOD = 7;

    /**
     * @param setup     writes the bad ring and may pop already (for "pop after broken").
     * @param indirect  whether VIRTIO_F_INDIRECT_DESC is negotiated.
     * @param capacity  segments the caller's DescriptorChain can hold.
     */
    record Case(String name, boolean indirect, int capacity, BiConsumer<SplitRingFixture, SplitQueue> setup,
        int expected, boolean broken)
    {
        public String toString()
        {
            return name;
        }
    }

    static List<Case> cases()
    {
        return List.of(
            new Case("head out of range", true, SIZE,
                (r, q) -> r.availSlot(0, SIZE).availIdx(1), ChainStatus.HEAD_OUT_OF_RANGE, true),
            new Case("head 0xFFFF", true, SIZE,
                (r, q) -> r.availSlot(0, 0xFFFF).availIdx(1), ChainStatus.HEAD_OUT_OF_RANGE, true),
            new Case("next out of range", true, SIZE,
                (r, q) -> r.desc(0, DATA, 8, NEXT, SIZE).offer(0), ChainStatus.NEXT_OUT_OF_RANGE, false),
            new Case("self loop", true, SIZE,
                (r, q) -> r.desc(0, DATA, 8, NEXT, 0).offer(0), ChainStatus.CHAIN_TOO_LONG, false),
            new Case("loop over three descriptors", true, SIZE,
                (r, q) -> r.desc(0, DATA, 8, NEXT, 1).desc(1, DATA, 8, NEXT, 2).desc(2, DATA, 8, NEXT, 0).offer(0),
                ChainStatus.CHAIN_TOO_LONG, false),
            new Case("loop of zero-length descriptors", true, SIZE,
                (r, q) -> r.desc(0, DATA, 0, NEXT, 1).desc(1, DATA, 0, NEXT, 0).offer(0),
                ChainStatus.CHAIN_TOO_LONG, false),
            new Case("loop inside an indirect table", true, SIZE,
                (r, q) -> r.descAt(TABLE, 0, DATA, 8, NEXT, 1).descAt(TABLE, 1, DATA, 8, NEXT, 0)
                    .desc(0, TABLE, 32, INDIRECT, 0).offer(0),
                ChainStatus.CHAIN_TOO_LONG, false),
            new Case("direct plus indirect longer than the queue", true, SIZE,
                (r, q) ->
                {
                    for (int i = 0; i < SIZE; i++)
                    {
                        r.descAt(TABLE, i, DATA, 8, i < SIZE - 1 ? NEXT : 0, i + 1);
                    }
                    r.desc(0, DATA, 8, NEXT, 1).desc(1, TABLE, SIZE * 16, INDIRECT, 0).offer(0);
                },
                ChainStatus.CHAIN_TOO_LONG, false),
            new Case("next out of range inside an indirect table", true, SIZE,
                (r, q) -> r.descAt(TABLE, 0, DATA, 8, NEXT, 2).desc(0, TABLE, 32, INDIRECT, 0).offer(0),
                ChainStatus.NEXT_OUT_OF_RANGE, false),
            new Case("indirect length 0", true, SIZE,
                (r, q) -> r.desc(0, TABLE, 0, INDIRECT, 0).offer(0), ChainStatus.INDIRECT_BAD_LENGTH, false),
            new Case("indirect length not a multiple of 16", true, SIZE,
                (r, q) -> r.desc(0, TABLE, 24, INDIRECT, 0).offer(0), ChainStatus.INDIRECT_BAD_LENGTH, false),
            new Case("indirect table longer than the queue", true, SIZE,
                (r, q) -> r.desc(0, TABLE, (SIZE + 1) * 16, INDIRECT, 0).offer(0), ChainStatus.INDIRECT_BAD_LENGTH, false),
            new Case("indirect length 0xFFFFFFF0", true, SIZE,
                (r, q) -> r.desc(0, TABLE, 0xFFFF_FFF0L, INDIRECT, 0).offer(0), ChainStatus.INDIRECT_BAD_LENGTH, false),
            new Case("nested indirect", true, SIZE,
                (r, q) -> r.descAt(TABLE, 0, TABLE + 0x100, 16, INDIRECT, 0).desc(0, TABLE, 16, INDIRECT, 0).offer(0),
                ChainStatus.NESTED_INDIRECT, false),
            new Case("INDIRECT with NEXT", true, SIZE,
                (r, q) -> r.descAt(TABLE, 0, DATA, 8, 0, 0).desc(0, TABLE, 16, INDIRECT | NEXT, 1)
                    .desc(1, DATA, 8, 0, 0).offer(0),
                ChainStatus.INDIRECT_WITH_NEXT, false),
            new Case("INDIRECT when not negotiated", false, SIZE,
                (r, q) -> r.descAt(TABLE, 0, DATA, 8, 0, 0).desc(0, TABLE, 16, INDIRECT, 0).offer(0),
                ChainStatus.INDIRECT_BAD_LENGTH, false),
            new Case("readable after writable", true, SIZE,
                (r, q) -> r.desc(0, DATA, 8, WRITE | NEXT, 1).desc(1, DATA, 8, 0, 0).offer(0),
                ChainStatus.READABLE_AFTER_WRITABLE, false),
            new Case("zero-length readable after writable", true, SIZE,
                (r, q) -> r.desc(0, DATA, 8, WRITE | NEXT, 1).desc(1, DATA, 0, 0, 0).offer(0),
                ChainStatus.READABLE_AFTER_WRITABLE, false),
            new Case("readable after writable inside an indirect table", true, SIZE,
                (r, q) -> r.descAt(TABLE, 0, DATA, 8, WRITE | NEXT, 1).descAt(TABLE, 1, DATA, 8, 0, 0)
                    .desc(0, TABLE, 32, INDIRECT, 0).offer(0),
                ChainStatus.READABLE_AFTER_WRITABLE, false),
            new Case("addr + len overflows 2^64", true, SIZE,
                (r, q) -> r.desc(0, 0xFFFF_FFFF_FFFF_FFF0L, 0x100, 0, 0).offer(0), ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("addr + len overflows 2^63", true, SIZE,
                (r, q) -> r.desc(0, Long.MAX_VALUE - 8, 0x100, WRITE, 0).offer(0), ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("buffer runs past the end of memory", true, SIZE,
                (r, q) -> r.desc(0, MEMORY_SIZE - 8, 16, 0, 0).offer(0), ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("buffer entirely outside memory", true, SIZE,
                (r, q) -> r.desc(0, 1L << 40, 16, WRITE, 0).offer(0), ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("buffer length 0xFFFFFFFF", true, SIZE,
                (r, q) -> r.desc(0, DATA, 0xFFFF_FFFFL, WRITE, 0).offer(0), ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("bad buffer inside an indirect table", true, SIZE,
                (r, q) -> r.descAt(TABLE, 0, MEMORY_SIZE, 1, 0, 0).desc(0, TABLE, 16, INDIRECT, 0).offer(0),
                ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("indirect table outside memory", true, SIZE,
                (r, q) -> r.desc(0, MEMORY_SIZE + 0x1000, 32, INDIRECT, 0).offer(0), ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("indirect table runs past the end of memory", true, SIZE,
                (r, q) -> r.desc(0, MEMORY_SIZE - 16, 32, INDIRECT, 0).offer(0), ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("indirect table address overflows", true, SIZE,
                (r, q) -> r.desc(0, 0xFFFF_FFFF_FFFF_FFF0L, 32, INDIRECT, 0).offer(0), ChainStatus.ADDRESS_OUT_OF_MEMORY, false),
            new Case("more segments than the chain holds", true, 2,
                (r, q) -> r.desc(0, DATA, 8, NEXT, 1).desc(1, DATA, 8, NEXT, 2).desc(2, DATA, 8, 0, 0).offer(0),
                ChainStatus.TOO_MANY_SEGMENTS, false),
            new Case("avail idx jumps by more than the queue size", true, SIZE,
                (r, q) -> r.availIdx(SIZE + 1), ChainStatus.AVAIL_INDEX_JUMP, true),
            new Case("avail idx moves backwards", true, SIZE,
                (r, q) -> r.availIdx(0xFFFF), ChainStatus.AVAIL_INDEX_JUMP, true),
            new Case("pop after broken", true, SIZE,
                (r, q) ->
                {
                    r.availSlot(0, SIZE).availIdx(1);
                    assertEquals(ChainStatus.HEAD_OUT_OF_RANGE, q.pop(new DescriptorChain(SIZE)));
                    r.desc(1, DATA, 8, 0, 0).offer(1);
                },
                ChainStatus.QUEUE_BROKEN, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void malformedRingGetsItsStatusAndNothingThrows(final Case c)
    {
        final SplitRingFixture ring = new SplitRingFixture(SIZE);
        final SplitQueue queue = ring.queue(false, c.indirect());
        final DescriptorChain chain = new DescriptorChain(c.capacity());
        final int head = 0;

        c.setup().accept(ring, queue);
        final int status = assertDoesNotThrow(() -> queue.pop(chain));
        assertEquals(c.expected(), status, () -> "got " + ChainStatus.describe(status));
        assertEquals(c.broken(), queue.isBroken());

        if (c.broken())
        {
            assertTrue(ChainStatus.isRingError(status));
            assertTrue(ChainStatus.isRingError(queue.brokenReason()));
            assertNotEquals(ChainStatus.QUEUE_BROKEN, queue.brokenReason(), "the first error is kept");
            ring.desc(GOOD, DATA, 8, 0, 0).offer(GOOD);
            assertEquals(ChainStatus.QUEUE_BROKEN, queue.pop(chain));
            assertFalse(queue.hasAvailable());
            return;
        }

        assertTrue(ChainStatus.isChainError(status));
        assertEquals(head, chain.id(), "the caller completes the bad chain by its head");
        assertEquals(1, queue.inFlight());
        queue.addUsed(chain.id(), 0);
        queue.publishUsed();
        assertEquals(1, ring.usedIdx());
        assertEquals(head, ring.usedId(0));
        assertEquals(0, ring.usedLen(0));

        ring.desc(GOOD, DATA + 0x100, 64, WRITE, 0).offer(GOOD);
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(GOOD, chain.id());
        assertEquals(1, chain.segmentCount());
        assertEquals(DATA + 0x100, chain.address(0));
        assertEquals(ChainStatus.EMPTY, queue.pop(chain));
    }
}
