package dev.braid.examples.soak;

import dev.braid.aggregator.CompletionToken;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The order check itself: it must catch a reordered first submission and ignore replays. */
class WriteOrderTest
{
    private static long token(final int queue, final int head, final int attempt)
    {
        return CompletionToken.encode(queue, head, 0, attempt);
    }

    @Test
    void countsAFirstSubmissionBehindALaterPostedWriteOfTheSameQueue()
    {
        final WriteOrder order = new WriteOrder(2, 8);
        order.submitted(token(0, 1, 0), 1);
        order.submitted(token(0, 3, 0), 3);
        order.submitted(token(0, 2, 0), 2);
        order.submitted(token(1, 2, 0), 1);
        assertEquals(1, order.outOfOrder());
        assertEquals(4, order.firstSubmissions());
    }

    @Test
    void aReplayOfTheSameWriteOnItsHeadIsNotAFirstSubmission()
    {
        final WriteOrder order = new WriteOrder(1, 8);
        order.submitted(token(0, 1, 0), 1);
        order.submitted(token(0, 2, 0), 2);
        order.submitted(token(0, 1, 1), 1);
        order.submitted(token(0, 1, 0), 3);
        assertEquals(0, order.outOfOrder());
        assertEquals(3, order.firstSubmissions());
    }

    @Test
    void aWriteStrandedByAFenceMayArriveAfterLaterOnesButOnlyWithinWhatWasOutstanding()
    {
        final WriteOrder order = new WriteOrder(1, 4);
        order.submitted(token(0, 0, 0), 1);
        order.fenced();
        order.submitted(token(0, 2, 0), 3);
        order.submitted(token(0, 3, 0), 9);
        order.submitted(token(0, 1, 1), 2);
        assertEquals(0, order.outOfOrder());
        assertEquals(1, order.excused());
        order.submitted(token(0, 0, 0), 8);
        assertEquals(1, order.outOfOrder(), "8 was not outstanding at the fence: a real reorder");
    }

    @Test
    void ignoresTokensOutsideTheTrackedQueuesAndHeads()
    {
        final WriteOrder order = new WriteOrder(1, 4);
        order.submitted(token(0, 1, 0), 5);
        order.submitted(token(1, 1, 0), 1);
        order.submitted(token(0, 4, 0), 1);
        assertEquals(0, order.outOfOrder());
        assertEquals(1, order.firstSubmissions());
    }
}
