package dev.braid.aggregator;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hand-driven interleavings of fence, replay and unfence around tokens a card worker still holds:
 * an attempt that was superseded by a replay must never start on its card afterwards.
 */
class FenceRaceTest
{
    /** A block card that records what it started and completes it at the next poll. */
    static class RecordingCard implements BlockCard
    {
        final String name;
        final List<Long> started = new ArrayList<>();
        final List<Long> toComplete = new ArrayList<>();
        final List<CompletionSink> sinks = new ArrayList<>();
        boolean full;
        // Volatile: CardWaitingIdleStrategyTest drives a subclass from AgentThreads threads.
        volatile boolean fenced;
        int depth = 8;
        Runnable onSubmit = () -> {};

        RecordingCard(final String name)
        {
            this.name = name;
        }

        public String name()
        {
            return name;
        }

        public int queueCount()
        {
            return 1;
        }

        public int queueDepth()
        {
            return depth;
        }

        public long capacitySectors()
        {
            return 4096;
        }

        public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
        {
            onSubmit.run();
            if (full || fenced)
            {
                return false;
            }
            started.add(token);
            toComplete.add(token);
            sinks.add(sink);
            return true;
        }

        public int poll(final int queue)
        {
            final int n = toComplete.size();
            for (int i = 0; i < n; i++)
            {
                sinks.get(i).complete(toComplete.get(i), CardStatus.OK, 512);
            }
            toComplete.clear();
            sinks.clear();
            return n;
        }

        public void fence()
        {
            fenced = true;
            toComplete.clear();
            sinks.clear();
        }

        public void unfence()
        {
            fenced = false;
        }

        public boolean isLinkUp()
        {
            return true;
        }

        public void setEventListener(final CardEventListener listener)
        {
        }
    }

    final RecordingCard[] cards = {new RecordingCard("a"), new RecordingCard("b")};
    final HandDrivenBlkRig rig = new HandDrivenBlkRig(cards, 8, false, "fence-race", null);

    /** A pull (rx-like) handler whose receive runs a hook first, as if the card filled the buffer then. */
    static final class PullHandler implements dev.braid.aggregator.PullHandler<dev.braid.virtio.card.Card>
    {
        Runnable onReceive = () -> {};

        public int prepare(final int slot, final dev.braid.virtio.queue.DescriptorChain chain)
        {
            return SUBMIT;
        }

        public int flowHash(final int slot)
        {
            return 0;
        }

        public int receive(final dev.braid.virtio.card.Card card, final int cardQueue, final int slot)
        {
            onReceive.run();
            return 64;
        }

        public boolean isPathFailure(final int slot, final int status)
        {
            return CardStatus.isPathFailure(status);
        }

        public int complete(final int slot, final int status, final int length)
        {
            return length;
        }

        public int fail(final int slot)
        {
            return 0;
        }
    }

    /** Fences the card, lets the front queue replay elsewhere and complete, then unfences. */
    private void fenceReplayCompleteUnfence(final int x)
    {
        final int y = 1 - x;
        rig.device.port(x).fence();
        rig.front.doWork();
        assertEquals(1, rig.front.outstanding(y), "replayed on the other card");
        rig.device.port(x).unfence();
        rig.work(y);
        rig.front.doWork();
        assertEquals(1, rig.reap(), "the replay completed to the guest");
    }

    /** Lets card {@code x} run what it still holds: the attempt the replay superseded must not start. */
    private void assertSupersededAttemptNeverStarts(final int x)
    {
        rig.work(x);
        rig.front.doWork();

        assertEquals(List.of(), cards[x].started, "the superseded attempt started on the unfenced card");
        assertEquals(0, rig.reap(), "no second completion");
        assertEquals(0, rig.front.inFlight());
    }

    @Test
    void tokenStillInTheSubmissionRingIsNotStartedAfterFenceAndUnfence()
    {
        final int x = rig.postAndDispatch();

        fenceReplayCompleteUnfence(x);
        assertSupersededAttemptNeverStarts(x);
    }

    @Test
    void tokenInTheWorkerBacklogIsNotStartedAfterFenceAndUnfence()
    {
        final int x = rig.postAndDispatch();
        cards[x].full = true;
        rig.work(x); // the token moves to the worker's backlog

        fenceReplayCompleteUnfence(x);
        cards[x].full = false;
        assertSupersededAttemptNeverStarts(x);
    }

    @Test
    void fenceAndUnfenceBetweenTheWorkersCheckAndItsSubmitCannotStartTheOldAttempt()
    {
        final int x = rig.postAndDispatch();
        final int y = 1 - x;
        final boolean[] once = {true};
        // The worker has checked the fence and is about to submit when the whole failover runs.
        cards[x].onSubmit = () ->
        {
            if (once[0])
            {
                once[0] = false;
                rig.device.port(x).fence();
                rig.front.doWork();
                rig.device.port(x).unfence();
                rig.work(y);
                rig.front.doWork();
            }
        };
        rig.work(x);
        rig.front.doWork();

        assertEquals(List.of(), cards[x].started, "the superseded attempt started on the unfenced card");
        assertEquals(1, rig.reap(), "exactly one completion");
        assertEquals(0, rig.front.inFlight());
    }

    @Test
    void tokenOfferedAfterTheFenceWithAnOlderGenerationIsRefusedAfterTheUnfence()
    {
        final CardPort port = rig.device.port(0);
        port.fence();
        assertFalse(port.unfence(), "no unfence before the card's worker caught up with the fence");
        rig.work(0);
        assertTrue(port.unfence());
        // A front queue that read generation 0, then lost the CPU until after the unfence.
        assertTrue(port.submissionRing(0).offer(CompletionToken.encode(0, 3, 0, 0)));
        rig.work(0);
        assertEquals(List.of(), cards[0].started, "a token dispatched before the fence started");
        assertTrue(port.submissionRing(0).offer(CompletionToken.encode(0, 3, 1, 0)));
        rig.work(0);
        assertEquals(1, cards[0].started.size(), "a token of the current generation starts");
    }

    @Test
    void pulledBufferIsNotReplayedWhileAReceiveBegunBeforeTheFenceMayStillWriteIt()
    {
        final PullHandler pull = new PullHandler();
        final HandDrivenBlkRig rig = new HandDrivenBlkRig(
            new RecordingCard[]{new RecordingCard("a"), new RecordingCard("b")}, 8, false, "fence-race", pull);
        final int x = rig.postAndDispatch();
        final int y = 1 - x;
        final boolean[] once = {true};
        // The worker of x checked the fence and is copying a frame when the fence and the replay run.
        pull.onReceive = () ->
        {
            if (once[0])
            {
                once[0] = false;
                rig.device.port(x).fence();
                rig.front.doWork();
                assertEquals(0, rig.front.outstanding(y), "replayed while the old receive may still write");
                rig.work(y);
                rig.front.doWork();
                assertEquals(0, rig.reap(), "completed to the guest while the old receive may still write");
            }
        };
        rig.work(x);
        for (int i = 0; i < 4; i++)
        {
            rig.front.doWork();
            rig.work(x);
            rig.work(y);
        }
        rig.front.doWork();
        assertEquals(1, rig.reap(), "exactly one completion");
        assertEquals(0, rig.front.inFlight());
    }
}
