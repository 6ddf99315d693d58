package dev.braid.perf.aggregator;

import dev.braid.aggregator.CompletionToken;
import dev.braid.sim.CardFault;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.VirtualClock;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.*;

/** The failover harness tells replayed completions from first attempts, whatever the cards did. */
class ReplayWatchTest
{
    private final VirtualClock clock = new VirtualClock();
    private final AtomicLongArray submissions = new AtomicLongArray(128);
    private final ReplayMarkingCard card0 = card(0);
    private final ReplayMarkingCard card1 = card(1);
    private final FailoverStall.ReplayWatch watch = new FailoverStall.ReplayWatch(submissions, clock);

    private ReplayMarkingCard card(final int index)
    {
        // A fail-stopped SimDisk refuses every submission before it looks at the request.
        final SimDisk disk = SimDisk.builder("disk" + index, new SharedBlockStore(64)).clock(clock).queues(1, 8).build();
        disk.inject(CardFault.FAIL_STOP, 0);
        return new ReplayMarkingCard(disk, index, 0, submissions);
    }

    private static long token(final int queue, final int head, final int attempt)
    {
        return CompletionToken.encode(queue, head, 0, attempt);
    }

    @Test
    void aReplayWhoseFirstAttemptTheFailedCardRefusedIsSeen()
    {
        // The old marking counted second *accepted* submissions: this replay was the first one.
        assertFalse(card0.submit(0, null, token(0, 5, 1), null), "the fail-stopped card refuses");
        card1.submit(0, null, token(0, 5, 2), null);
        clock.advanceBy(7);
        watch.onCompleted(5, 0);
        assertEquals(1, watch.replays);
        assertEquals(1, watch.replaysOfferedToCard0);
        assertEquals(7, watch.firstReplayAt.get());
    }

    @Test
    void aReplayThatNeverReachedAnyCardBeforeIsSeen()
    {
        // Attempt 1 was cancelled by card 0's worker at the fence without being offered to the card.
        card1.submit(0, null, token(0, 9, 2), null);
        watch.onCompleted(9, 0);
        assertEquals(1, watch.replays);
        assertEquals(0, watch.replaysOfferedToCard0);
    }

    @Test
    void reusesOfAHeadAndBacklogRetriesAreNotReplays()
    {
        for (int use = 1; use <= 5; use++)
        {
            card0.submit(0, null, token(0, 3, use), null);
            card0.submit(0, null, token(0, 3, use), null); // the worker's backlog retry: same attempt
            watch.onCompleted(3, 0);
        }
        assertEquals(0, watch.replays);
        assertEquals(-1, watch.firstReplayAt.get());
    }

    @Test
    void probesOfTheControlPlaneDoNotPassForGuestHeads()
    {
        // A probe's token names the probe queue and the card's index as its head.
        card0.submit(0, null, token(0, 0, 1), null);
        card0.submit(0, null, token(1, 0, 17), null);
        card1.submit(0, null, token(1, 1, 4), null);
        watch.onCompleted(0, 0);
        assertEquals(0, watch.replays);
    }

    @Test
    void failStopIsMeasuredInVirtualTime()
    {
        final long stall = FailoverStall.virtualTrial(7, CardFault.FAIL_STOP, 5_000_000);
        assertTrue(stall > 0 && stall < 1_000_000, "stall " + stall);
    }
}
