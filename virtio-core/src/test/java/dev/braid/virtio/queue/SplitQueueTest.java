package dev.braid.virtio.queue;

import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static dev.braid.virtio.queue.SplitRingFixture.*;
import static org.junit.jupiter.api.Assertions.*;

class SplitQueueTest
{
    @Test
    void popsOneDescriptorChainAndPublishesItsCompletion()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(8);
        assertFalse(queue.hasAvailable());
        assertEquals(ChainStatus.EMPTY, queue.pop(chain));

        ring.desc(3, DATA, 512, 0, 0).offer(3);
        assertTrue(queue.hasAvailable());
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(3, chain.id());
        assertEquals(1, chain.segmentCount());
        assertEquals(1, chain.readableCount());
        assertEquals(DATA, chain.address(0));
        assertEquals(512, chain.length(0));
        assertEquals(1, chain.descriptorCount());
        assertEquals(1, queue.inFlight());
        assertEquals(1, queue.lastAvailIndex());
        assertEquals(ChainStatus.EMPTY, queue.pop(chain));

        queue.addUsed(3, 0);
        assertEquals(0, ring.usedIdx(), "staged elements are not visible before publishUsed");
        queue.publishUsed();
        assertEquals(1, ring.usedIdx());
        assertEquals(3, ring.usedId(0));
        assertEquals(0, ring.usedLen(0));
        assertEquals(0, queue.inFlight());
        assertEquals(1, queue.usedIndex());
    }

    /** A frozen ring pops nothing more, also what it had seen but not popped, and still completes what it popped. */
    @Test
    void aFrozenRingPopsNothingMoreButStillPublishesUsed()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(8);
        ring.desc(1, DATA, 512, 0, 0).offer(1);
        ring.desc(2, DATA + 0x1000, 512, 0, 0).offer(2);
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(1, chain.id());

        queue.freeze();
        ring.desc(3, DATA + 0x2000, 512, 0, 0).offer(3);
        assertFalse(queue.hasAvailable(), "head 2 was seen (shadow index) but not popped, head 3 came after: neither");
        assertEquals(ChainStatus.EMPTY, queue.pop(chain));
        assertEquals(1, queue.lastAvailIndex(), "the ring ends where it was frozen");
        queue.addUsed(1, 0);
        queue.publishUsed();
        assertEquals(1, ring.usedIdx(), "what was popped before still completes");
        assertEquals(0, queue.inFlight());

        queue.reset();
        assertEquals(ChainStatus.POPPED, queue.pop(chain), "reset unfreezes: the ring starts over at 0");
        assertEquals(1, chain.id());
    }

    @Test
    void walksReadableThenWritableSegmentsAndSkipsZeroLength()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(8);
        ring.desc(0, DATA, 16, NEXT, 5)
            .desc(5, DATA + 0x100, 0, NEXT, 2)
            .desc(2, DATA + 0x200, 4096, WRITE | NEXT, 7)
            .desc(7, DATA + 0x2000, 1, WRITE, 0)
            .offer(0);
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(0, chain.id());
        assertEquals(4, chain.descriptorCount());
        assertEquals(3, chain.segmentCount());
        assertEquals(1, chain.readableCount());
        assertEquals(2, chain.writableCount());
        assertEquals(16, chain.readableBytes());
        assertEquals(4097, chain.writableBytes());
        assertFalse(chain.isWritable(0));
        assertTrue(chain.isWritable(1));
        assertEquals(DATA + 0x2000, chain.address(2));
    }

    @Test
    void fullBatchCompletedOutOfOrderLandsInUsedRingInCompletionOrder()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(8);
        for (int i = 0; i < 8; i++)
        {
            ring.desc(i, DATA + i * 0x1000L, 100 + i, WRITE, 0).offer(7 - i);
        }
        final List<Integer> ids = new ArrayList<>();
        while (queue.pop(chain) == ChainStatus.POPPED)
        {
            ids.add(chain.id());
            assertEquals(100 + chain.id(), chain.length(0));
        }
        assertEquals(List.of(7, 6, 5, 4, 3, 2, 1, 0), ids);
        assertEquals(8, queue.inFlight());
        assertFalse(queue.hasAvailable());

        final int[] order = {2, 0, 7, 1, 6, 3, 5, 4};
        for (final int id : order)
        {
            queue.addUsed(id, id * 10);
        }
        queue.publishUsed();
        assertEquals(8, ring.usedIdx());
        for (int i = 0; i < 8; i++)
        {
            assertEquals(order[i], ring.usedId(i));
            assertEquals(order[i] * 10, ring.usedLen(i));
        }
        assertEquals(0, queue.inFlight());
    }

    @Test
    void popsIndirectChainsIncludingOneAfterDirectDescriptors()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, true);
        final DescriptorChain chain = new DescriptorChain(8);
        final long table = DATA + 0x10000;
        ring.descAt(table, 0, DATA, 16, NEXT, 2)
            .descAt(table, 2, DATA + 0x100, 512, NEXT | WRITE, 1)
            .descAt(table, 1, DATA + 0x400, 1, WRITE, 0)
            // The WRITE flag on the pointer itself is ignored.
            .desc(4, table, 3 * 16, INDIRECT | WRITE, 0)
            .offer(4);
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(4, chain.id());
        assertEquals(1, chain.descriptorCount());
        assertEquals(3, chain.segmentCount());
        assertEquals(1, chain.readableCount());
        assertEquals(DATA + 0x100, chain.address(1));
        assertEquals(DATA + 0x400, chain.address(2));

        // Zero or more direct descriptors followed by one indirect one (virtio 2.7.5.3.2).
        ring.desc(0, DATA + 0x800, 12, NEXT, 6).desc(6, table, 3 * 16, INDIRECT, 0).offer(0);
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(0, chain.id());
        assertEquals(2, chain.descriptorCount());
        assertEquals(4, chain.segmentCount());
        assertEquals(2, chain.readableCount());
        assertEquals(28, chain.readableBytes());
    }

    @Test
    void indirectTableMayHoldExactlyQueueSizeDescriptors()
    {
        final SplitRingFixture ring = new SplitRingFixture(4);
        final SplitQueue queue = ring.queue(false, true);
        final DescriptorChain chain = new DescriptorChain(4);
        final long table = DATA;
        for (int i = 0; i < 4; i++)
        {
            ring.descAt(table, i, DATA + 0x1000 + i * 64L, 64, i < 3 ? NEXT : 0, i + 1);
        }
        ring.desc(0, table, 64, INDIRECT, 0).offer(0);
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(4, chain.segmentCount());
    }

    @Test
    void eventIdxInterruptsOnlyWhenUsedEventIsCrossed()
    {
        final SplitRingFixture ring = new SplitRingFixture(16);
        final SplitQueue queue = ring.queue(true, false);
        final DescriptorChain chain = new DescriptorChain(16);
        for (int i = 0; i < 16; i++)
        {
            ring.desc(i, DATA, 8, 0, 0).offer(i);
        }
        assertFalse(queue.needsInterrupt(), "nothing published");

        ring.usedEvent(0);
        completeNext(queue, chain, 1);
        assertTrue(queue.needsInterrupt(), "used idx 0 -> 1 crosses used_event 0");
        completeNext(queue, chain, 1);
        assertFalse(queue.needsInterrupt(), "1 -> 2 does not cross 0");

        ring.usedEvent(5);
        completeNext(queue, chain, 3);
        assertFalse(queue.needsInterrupt(), "2 -> 5 stops short of crossing 5");
        completeNext(queue, chain, 1);
        assertTrue(queue.needsInterrupt(), "5 -> 6 crosses 5");

        // The window is everything since the last call: 6 -> 10 over several publishes crosses 8.
        ring.usedEvent(8);
        completeNext(queue, chain, 2);
        completeNext(queue, chain, 2);
        assertTrue(queue.needsInterrupt());
        assertFalse(queue.needsInterrupt(), "window was reset");

        // With EVENT_IDX the NO_INTERRUPT flag is ignored.
        ring.availFlags(VIRTQ_AVAIL_F_NO_INTERRUPT_INT).usedEvent(10);
        completeNext(queue, chain, 1);
        assertTrue(queue.needsInterrupt());
    }

    private static final int VIRTQ_AVAIL_F_NO_INTERRUPT_INT = SplitRingDescriptor.VIRTQ_AVAIL_F_NO_INTERRUPT;

    @Test
    void withoutEventIdxTheNoInterruptFlagDecides()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(8);
        for (int i = 0; i < 4; i++)
        {
            ring.desc(i, DATA, 8, 0, 0).offer(i);
        }
        completeNext(queue, chain, 1);
        assertTrue(queue.needsInterrupt());
        assertFalse(queue.needsInterrupt(), "nothing new published");
        ring.availFlags(VIRTQ_AVAIL_F_NO_INTERRUPT_INT);
        completeNext(queue, chain, 1);
        assertFalse(queue.needsInterrupt());
        ring.availFlags(0);
        completeNext(queue, chain, 1);
        assertTrue(queue.needsInterrupt());
    }

    @Test
    void noNotifyFlagDisablesAndEnablesKicksAndEnableReportsRaces()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(8);
        queue.disableNotifications();
        assertEquals(SplitRingDescriptor.VIRTQ_USED_F_NO_NOTIFY, ring.usedFlags());
        assertFalse(queue.enableNotifications());
        assertEquals(0, ring.usedFlags());

        queue.disableNotifications();
        ring.desc(0, DATA, 8, 0, 0).offer(0);
        assertTrue(queue.enableNotifications(), "a chain arrived while kicks were off");
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertFalse(queue.enableNotifications());
    }

    @Test
    void eventIdxNotificationsMoveAvailEvent()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(true, false);
        final DescriptorChain chain = new DescriptorChain(8);
        assertFalse(queue.enableNotifications());
        assertEquals(0, ring.availEvent());
        assertEquals(0, ring.usedFlags(), "with EVENT_IDX the used flags are not used");

        queue.disableNotifications();
        ring.desc(0, DATA, 8, 0, 0).offer(0).offer(0).offer(0);
        assertTrue(queue.enableNotifications());
        assertEquals(0, ring.availEvent());
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertTrue(queue.enableNotifications());
        assertEquals(2, ring.availEvent());
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertFalse(queue.enableNotifications());
        assertEquals(3, ring.availEvent());
        assertEquals(0, ring.usedFlags());
    }

    @Test
    void indicesWrapAroundPast65535FromStartAt()
    {
        final SplitRingFixture ring = new SplitRingFixture(4);
        final SplitQueue queue = ring.queue(true, false);
        final DescriptorChain chain = new DescriptorChain(4);
        queue.startAt(65530, 65532);
        assertEquals(65532, ring.usedIdx());
        ring.availIdx(65530);
        for (int i = 0; i < 4; i++)
        {
            ring.desc(i, DATA + i * 64L, 64, WRITE, 0);
        }
        int expectedUsed = 65532;
        for (int n = 0; n < 20; n++)
        {
            final int head = n % 4;
            ring.offer(head);
            assertEquals(ChainStatus.POPPED, queue.pop(chain));
            assertEquals(head, chain.id());
            ring.usedEvent(expectedUsed);
            queue.addUsed(head, 64);
            queue.publishUsed();
            assertTrue(queue.needsInterrupt(), "used_event = old used idx must fire, also across the wrap");
            expectedUsed = (expectedUsed + 1) & 0xFFFF;
            assertEquals(expectedUsed, ring.usedIdx());
            assertEquals(head, ring.usedId(expectedUsed - 1));
        }
        assertEquals((65530 + 20) & 0xFFFF, queue.lastAvailIndex());
        assertEquals(14, queue.lastAvailIndex());
        assertEquals(16, queue.usedIndex());
    }

    @Test
    void runsMoreThan65536ChainsThroughTheRing()
    {
        final SplitRingFixture ring = new SplitRingFixture(16);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(16);
        for (int i = 0; i < 16; i++)
        {
            ring.desc(i, DATA + i * 256L, 256, 0, 0);
        }
        long chains = 0;
        while (chains < 70_000)
        {
            for (int i = 0; i < 16; i++)
            {
                ring.offer(i);
            }
            int popped = 0;
            while (queue.pop(chain) == ChainStatus.POPPED)
            {
                queue.addUsed(chain.id(), 0);
                popped++;
            }
            assertEquals(16, popped);
            queue.publishUsed();
            chains += popped;
            assertEquals(chains & 0xFFFF, ring.usedIdx());
        }
        assertFalse(queue.isBroken());
        assertEquals(70_000 & 0xFFFF, queue.lastAvailIndex());
    }

    @Test
    void resetReturnsToInitialState()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(8);
        ring.desc(0, DATA, 8, 0, 0).offer(0).offer(0);
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        queue.addUsed(0, 0);
        queue.publishUsed();
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        ring.availSlot(2, 99).offer(99);
        assertEquals(ChainStatus.HEAD_OUT_OF_RANGE, queue.pop(chain));
        assertTrue(queue.isBroken());

        queue.reset();
        assertFalse(queue.isBroken());
        assertEquals(0, queue.brokenReason());
        assertEquals(0, queue.inFlight());
        assertEquals(0, queue.lastAvailIndex());
        assertEquals(0, queue.usedIndex());

        // The driver re-initialises its ring after a reset.
        ring.availIdx(0);
        ring.memory.setMemory(USED, SplitRingDescriptor.usedRingLength(8), (byte)0);
        assertEquals(ChainStatus.EMPTY, queue.pop(chain));
        ring.desc(1, DATA, 8, 0, 0).offer(1);
        assertEquals(ChainStatus.POPPED, queue.pop(chain));
        assertEquals(1, chain.id());
        queue.addUsed(1, 0);
        queue.publishUsed();
        assertEquals(1, ring.usedIdx());
    }

    @Test
    void chainErrorsCountAsInFlightUntilCompleted()
    {
        final SplitRingFixture ring = new SplitRingFixture(8);
        final SplitQueue queue = ring.queue(false, false);
        final DescriptorChain chain = new DescriptorChain(8);
        ring.desc(2, DATA, 8, NEXT, 9).offer(2);
        assertEquals(ChainStatus.NEXT_OUT_OF_RANGE, queue.pop(chain));
        assertEquals(2, chain.id());
        assertEquals(1, queue.inFlight());
        queue.addUsed(chain.id(), 0);
        queue.publishUsed();
        assertEquals(0, queue.inFlight());
        assertEquals(2, ring.usedId(0));
    }

    @Test
    void checkLayoutNamesEveryBadLayoutAndConstructorThrowsIt()
    {
        final GuestMemory memory = GuestMemory.allocate(MEMORY_SIZE);
        assertNull(SplitQueue.checkLayout(memory, 256, DESC, AVAIL, USED));
        assertNull(SplitQueue.checkLayout(memory, 1, 0, 0x10, 0x20));
        assertNull(SplitQueue.checkLayout(memory, 32768, 0, 0x80000, 0x90000));
        assertNotNull(SplitQueue.checkLayout(null, 8, DESC, AVAIL, USED));
        for (final int badSize : new int[]{0, -8, 3, 100, 65536})
        {
            assertTrue(SplitQueue.checkLayout(memory, badSize, DESC, AVAIL, USED).contains("power of two"));
        }
        assertTrue(SplitQueue.checkLayout(memory, 8, DESC + 8, AVAIL, USED).contains("aligned"));
        assertTrue(SplitQueue.checkLayout(memory, 8, DESC, AVAIL + 1, USED).contains("aligned"));
        assertTrue(SplitQueue.checkLayout(memory, 8, DESC, AVAIL, USED + 2).contains("aligned"));
        assertTrue(SplitQueue.checkLayout(memory, 8, MEMORY_SIZE - 64, AVAIL, USED).contains("descriptor table"));
        assertTrue(SplitQueue.checkLayout(memory, 8, DESC, MEMORY_SIZE - 16, USED).contains("available ring"));
        assertTrue(SplitQueue.checkLayout(memory, 8, DESC, AVAIL, MEMORY_SIZE - 16).contains("used ring"));
        // Near 2^64: the end would wrap around; must be rejected, not overflow into range.
        assertNotNull(SplitQueue.checkLayout(memory, 8, 0xFFFF_FFFF_FFFF_FFF0L, AVAIL, USED));
        assertNotNull(SplitQueue.checkLayout(memory, 8, Long.MAX_VALUE - 15, AVAIL, USED));
        assertNotNull(SplitQueue.checkLayout(memory, 8, DESC, AVAIL, 0xFFFF_FFFF_FFFF_FFFCL));

        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new SplitQueue(memory, 6, DESC, AVAIL, USED, false, false));
        assertTrue(ex.getMessage().contains("power of two"));
    }

    @Test
    void ringAreasBuffersAndIndirectTablesMaySpanAdjacentRegions()
    {
        // Adjacent regions meet at 0x1040, 0x2040 and 0x3040: the descriptor table, the used ring,
        // the indirect table and the buffers each straddle one of them (the idx fields do not).
        final GuestMemory memory = GuestMemory.builder()
            .addAnonymous(0, 0x1040)
            .addAnonymous(0x1040, 0x1000)
            .addAnonymous(0x2040, 0x1000)
            .addAnonymous(0x3040, 0x10000)
            .build();
        final int size = 8;
        final long desc = 0x1000;
        final long avail = 0x4000;
        final long used = 0x2020;
        final long table = 0x3030;
        final long buffer = 0x0F80;
        assertNull(SplitQueue.checkLayout(memory, size, desc, avail, used));
        final SplitQueue queue = new SplitQueue(memory, size, desc, avail, used, true, true);
        final SplitRingFixture ring = new SplitRingFixture(memory, size);
        for (int i = 0; i < size; i++)
        {
            ring.descAt(desc, i, i == 7 ? table : buffer, i == 7 ? 32 : 0x100, i == 7 ? INDIRECT : WRITE, 0);
            memory.putShort(avail + 4 + i * 2L, (short)i);
        }
        ring.descAt(table, 0, buffer, 0x100, NEXT, 1).descAt(table, 1, 0x3000, 0x80, WRITE, 0);
        memory.putShortRelease(avail + 2, (short)size);
        final DescriptorChain chain = new DescriptorChain(size);
        for (int i = 0; i < size; i++)
        {
            assertEquals(ChainStatus.POPPED, queue.pop(chain), "chain " + i);
            assertEquals(i, chain.id());
            assertEquals(i == 7 ? 2 : 1, chain.segmentCount());
            assertEquals(buffer, chain.address(0));
            queue.addUsed(i, i);
        }
        queue.publishUsed();
        assertEquals(size, memory.getShort(used + 2));
        for (int i = 0; i < size; i++)
        {
            assertEquals(i, memory.getInt(used + 4 + i * 8L));
            assertEquals(i, memory.getInt(used + 8 + i * 8L));
        }
        // Straddling avail.idx is refused: it must be read atomically.
        final GuestMemory odd = GuestMemory.builder().addAnonymous(0, 0x1003).addAnonymous(0x1003, 0x10000).build();
        assertTrue(SplitQueue.checkLayout(odd, size, 0x2000, 0x1000, 0x3000).contains("straddles"));
    }

    @Test
    void randomBatchesAndCompletionOrdersMatchAModel()
    {
        final long seed = Long.getLong("braid.seed", System.nanoTime());
        System.out.println("seed=" + seed);
        final Random random = new Random(seed);
        final int rounds = Math.max(1, Integer.getInteger("braid.seeds", 200) / 10);
        for (int round = 0; round < rounds; round++)
        {
            final int size = 1 << random.nextInt(6);
            final SplitRingFixture ring = new SplitRingFixture(size);
            final SplitQueue queue = ring.queue(random.nextBoolean(), false);
            final int start = random.nextInt(65536);
            queue.startAt(start, start);
            ring.availIdx(start);
            final DescriptorChain chain = new DescriptorChain(size);
            final ArrayDeque<Integer> free = new ArrayDeque<>();
            for (int i = 0; i < size; i++)
            {
                free.add(i);
            }
            final List<Integer> inFlight = new ArrayList<>();
            int used = start;
            for (int step = 0; step < 200; step++)
            {
                final int offers = random.nextInt(free.size() + 1);
                final List<Integer> offered = new ArrayList<>();
                for (int i = 0; i < offers; i++)
                {
                    final int head = free.poll();
                    ring.desc(head, DATA + head * 64L, 1 + head, WRITE, 0).offer(head);
                    offered.add(head);
                }
                for (final int head : offered)
                {
                    assertEquals(ChainStatus.POPPED, queue.pop(chain), "seed=" + seed);
                    assertEquals(head, chain.id(), "seed=" + seed);
                    assertEquals(1 + head, chain.length(0));
                    inFlight.add(head);
                }
                assertEquals(ChainStatus.EMPTY, queue.pop(chain));
                Collections.shuffle(inFlight, random);
                final int completions = random.nextInt(inFlight.size() + 1);
                for (int i = 0; i < completions; i++)
                {
                    final int head = inFlight.remove(inFlight.size() - 1);
                    queue.addUsed(head, head);
                    assertEquals(head, ring.usedId(used + i), "seed=" + seed);
                    free.add(head);
                }
                queue.publishUsed();
                used = (used + completions) & 0xFFFF;
                assertEquals(used, ring.usedIdx(), "seed=" + seed);
                assertEquals(inFlight.size(), queue.inFlight(), "seed=" + seed);
                queue.needsInterrupt();
            }
            assertFalse(queue.isBroken(), "seed=" + seed);
        }
    }

    private static void completeNext(final SplitQueue queue, final DescriptorChain chain, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            assertEquals(ChainStatus.POPPED, queue.pop(chain));
            queue.addUsed(chain.id(), 0);
        }
        queue.publishUsed();
    }
}
