package dev.braid.aggregator;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InFlightTableTest
{
    private static long token(final int head, final int generation, final int attempt)
    {
        return CompletionToken.encode(0, head, generation, attempt);
    }

    @Test
    void refusesSizesATokenCannotName()
    {
        assertThrows(IllegalArgumentException.class, () -> new InFlightTable(0));
        assertThrows(IllegalArgumentException.class, () -> new InFlightTable(InFlightTable.MAX_ENTRIES + 1));
        assertEquals(65536, new InFlightTable(InFlightTable.MAX_ENTRIES).entries());
    }

    @Test
    void aCompletionMatchesOnlyTheCurrentAttemptAndGeneration()
    {
        final InFlightTable table = new InFlightTable(8);
        table.begin(3, 100);
        final int attempt = table.attempt(3);
        assertFalse(table.isCurrent(3, token(3, 5, attempt)), "pending is not on a card");
        table.submitted(3, 7, 5, 200);
        assertTrue(table.isCurrent(3, token(3, 5, attempt)));
        assertFalse(table.isCurrent(3, token(3, 6, attempt)), "other generation");
        assertFalse(table.isCurrent(3, token(3, 5, attempt + 1)), "other attempt");
        assertFalse(table.isCurrent(8, token(8, 5, attempt)), "head past the table");

        assertEquals(1, table.nextAttempt(3));
        table.submitted(3, 9, 5, 300);
        assertFalse(table.isCurrent(3, token(3, 5, attempt)), "superseded attempt");
        assertTrue(table.isCurrent(3, token(3, 5, attempt + 1)));
        assertEquals(9, table.route(3));
        assertEquals(100, table.popNanos(3));
        assertEquals(300, table.submitNanos(3));
    }

    @Test
    void aReusedHeadNeverMatchesItsEarlierUse()
    {
        final InFlightTable table = new InFlightTable(4);
        table.begin(0, 1);
        table.submitted(0, 0, 0, 1);
        final long first = token(0, 0, table.attempt(0));
        table.free(0);
        assertTrue(table.isFree(0));
        assertFalse(table.isCurrent(0, first), "freed");

        table.begin(0, 2);
        table.submitted(0, 0, 0, 2);
        assertFalse(table.isCurrent(0, first), "a late answer from the head's earlier use");
        assertEquals(0, table.nextAttempt(0) - 1, "attempts count from the new request's first");
        assertEquals(InFlightTable.NO_CARD, table.avoidCard(0));
        assertEquals(InFlightTable.NO_CARD, table.replayedFrom(0));
        assertEquals(InFlightTable.NO_TROUBLE, table.troubleSince(0));
    }

    @Test
    void attemptsPastTheTokensTwentyBitsStillTellOldFromNew()
    {
        final InFlightTable table = new InFlightTable(1);
        table.begin(0, 0);
        for (int i = 0; i < CompletionToken.MAX_ATTEMPT - 1; i++)
        {
            table.nextAttempt(0);
        }
        table.submitted(0, 0, 0, 0);
        final long before = token(0, 0, table.attempt(0));
        assertTrue(table.isCurrent(0, before));
        assertEquals(CompletionToken.MAX_ATTEMPT, table.nextAttempt(0));
        table.submitted(0, 0, 0, 0);
        assertFalse(table.isCurrent(0, before));
        assertTrue(table.isCurrent(0, token(0, 0, table.attempt(0))), "wrapped to 0 in the token");
        assertEquals(0, CompletionToken.attempt(token(0, 0, table.attempt(0))));
    }

    @Test
    void troubleKeepsItsFirstInstant()
    {
        final InFlightTable table = new InFlightTable(2);
        table.begin(1, 10);
        table.markTrouble(1, 20);
        table.markTrouble(1, 30);
        assertEquals(20, table.troubleSince(1));
        table.begin(1, 40);
        assertEquals(InFlightTable.NO_TROUBLE, table.troubleSince(1));
    }

    @Test
    void aFullPendingQueueKeepsOrderAcrossItsWrap()
    {
        final int size = 32768;
        final InFlightTable table = new InFlightTable(size);
        for (int head = 0; head < size; head++)
        {
            table.begin(head, head);
            table.enqueuePending(head);
        }
        assertEquals(size, table.pendingCount());
        // Take half, put them back behind the rest: the ring wraps.
        for (int i = 0; i < size / 2; i++)
        {
            assertEquals(i, table.peekPending());
            table.popPending();
            table.enqueuePending(i);
        }
        for (int i = 0; i < size; i++)
        {
            assertEquals((i + size / 2) % size, table.peekPending());
            assertEquals(InFlightTable.PENDING, table.state(table.peekPending()));
            table.popPending();
        }
        assertEquals(0, table.pendingCount());
    }

    @Test
    void theLargestTableKeepsNeighbouringEntriesApart()
    {
        final InFlightTable table = new InFlightTable(InFlightTable.MAX_ENTRIES);
        final int last = InFlightTable.MAX_ENTRIES - 1;
        table.begin(last - 1, 1);
        table.begin(last, Long.MAX_VALUE);
        table.submitted(last, -2, 0xFFFF, Long.MAX_VALUE - 1);
        table.avoidCard(last, 63);
        table.replayedFrom(last, 62);
        table.markTrouble(last, Long.MAX_VALUE - 2);
        table.submitted(last - 1, 1, 1, 1);

        assertEquals(Long.MAX_VALUE, table.popNanos(last));
        assertEquals(Long.MAX_VALUE - 1, table.submitNanos(last));
        assertEquals(Long.MAX_VALUE - 2, table.troubleSince(last));
        assertEquals(-2, table.route(last));
        assertEquals(0xFFFF, table.fenceGeneration(last));
        assertEquals(63, table.avoidCard(last));
        assertEquals(62, table.replayedFrom(last));
        assertTrue(table.isCurrent(last, CompletionToken.encode(0, last, 0xFFFF, table.attempt(last))));
        assertEquals(InFlightTable.NO_CARD, table.avoidCard(last - 1));
        assertEquals(1, table.route(last - 1));
        assertEquals(1, table.popNanos(last - 1));
    }

    @Test
    void steadyStateAllocatesNothing()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final InFlightTable table = new InFlightTable(256);
        cycle(table, 200_000); // warm up: let the JIT compile the loop before measuring
        final long before = threads.getCurrentThreadAllocatedBytes();
        final long matched = cycle(table, 1_000_000);
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(1_000_000, matched);
        // A few hundred bytes of slack for the measuring itself; one object per request would be MBs.
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes over 1M requests");
    }

    /** Pop, dispatch, complete, free: the table's part of a request's life. Returns completions matched. */
    private static long cycle(final InFlightTable table, final int requests)
    {
        long matched = 0;
        final int size = table.entries();
        for (int i = 0; i < requests; i++)
        {
            final int head = i % size;
            table.begin(head, i);
            table.enqueuePending(head);
            final int next = table.peekPending();
            table.popPending();
            table.submitted(next, 1, 2, i);
            if (table.isCurrent(next, CompletionToken.encode(0, next, 2, table.attempt(next))))
            {
                matched++;
            }
            table.free(next);
        }
        return matched;
    }
}
