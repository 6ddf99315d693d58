package dev.braid.aggregator;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A zombie card: fenced, it keeps what it held and later answers OK for it without moving a byte.
 * Whenever that answer comes (at once, after the replay, after the card rejoined, past every wrap
 * of the token's counters) the guest must not see it: the read it answers would return the guest's
 * own buffer, the write would be acknowledged without reaching the disk.
 */
class ZombieCompletionTest
{
    /** A block card that completes one poll after the submit; fenced, it keeps its requests to lie about later. */
    static class ZombieCard extends FenceRaceTest.RecordingCard
    {
        final List<Long> arriving = new ArrayList<>();
        final List<CompletionSink> arrivingSinks = new ArrayList<>();
        final List<Long> zombieTokens = new ArrayList<>();
        final List<CompletionSink> zombieSinks = new ArrayList<>();

        ZombieCard(final String name)
        {
            super(name);
        }

        public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
        {
            if (fenced)
            {
                return false;
            }
            started.add(token);
            arriving.add(token);
            arrivingSinks.add(sink);
            return true;
        }

        public int poll(final int queue)
        {
            final int n = super.poll(queue); // completes what arrived at the previous poll
            toComplete.addAll(arriving);
            sinks.addAll(arrivingSinks);
            arriving.clear();
            arrivingSinks.clear();
            return n;
        }

        public void fence()
        {
            fenced = true;
            zombieTokens.addAll(toComplete);
            zombieSinks.addAll(sinks);
            zombieTokens.addAll(arriving);
            zombieSinks.addAll(arrivingSinks);
            toComplete.clear();
            sinks.clear();
            arriving.clear();
            arrivingSinks.clear();
        }

        /** The lie: OK for everything held at the fence, no data moved. */
        int release()
        {
            for (int i = 0; i < zombieTokens.size(); i++)
            {
                zombieSinks.get(i).complete(zombieTokens.get(i), CardStatus.OK, 512);
            }
            return zombieTokens.size();
        }
    }

    final ZombieCard[] cards = {new ZombieCard("a"), new ZombieCard("b")};
    // One request at a time, each one indirect descriptor: the driver reuses the same head, so its
    // attempt number climbs as fast as it can.
    final HandDrivenBlkRig rig = new HandDrivenBlkRig(cards, 4, true, "zombie", null);

    /** Posts a read, starts it on a card and fences that card with the read held by the zombie. */
    private int startThenFence()
    {
        final int x = rig.postAndDispatch();
        rig.work(x); // started on x, not yet answered
        assertEquals(1, cards[x].started.size());
        rig.device.port(x).fence();
        return x;
    }

    @Test
    void zombieAnswerAtTheInstantOfTheFenceIsNotTrusted()
    {
        final int x = startThenFence();
        final int y = 1 - x;
        assertEquals(1, cards[x].release(), "the zombie answers before the front queue looked at anything");

        rig.front.doWork();
        assertEquals(0, rig.reap(), "the zombie's OK reached the guest: a read that read nothing");
        assertEquals(1, rig.front.outstanding(y), "replayed on the surviving card");
        rig.work(y);
        rig.work(y);
        rig.front.doWork();
        assertEquals(1, rig.reap(), "the replay completed");
        assertEquals(1, rig.device.port(x).gateDropped());
        assertEquals(0, rig.front.inFlight());
    }

    @Test
    void zombieAnswerAfterEveryStepOfTheFailoverIsNotTrusted()
    {
        // Release the lie after 0, 1, 2, ... steps of: replay, replay done, card caught up, unfence,
        // the card serving again.
        for (int step = 0; step <= 7; step++)
        {
            final ZombieCompletionTest t = new ZombieCompletionTest();
            final int x = t.startThenFence();
            final int y = 1 - x;
            final Runnable[] steps = {
                () -> t.rig.front.doWork(),
                () -> t.rig.work(y),
                () -> t.rig.work(y),
                () -> t.rig.front.doWork(),
                () -> t.rig.work(x),
                () -> assertTrue(t.rig.device.port(x).unfence()),
                () -> { t.rig.reap(); t.rig.postRead(); t.rig.front.doWork(); t.rig.work(0); t.rig.work(1); }
            };
            for (int i = 0; i < steps.length; i++)
            {
                if (i == step)
                {
                    t.cards[x].release();
                }
                steps[i].run();
            }
            if (step == steps.length)
            {
                t.cards[x].release();
            }
            for (int i = 0; i < 4; i++)
            {
                t.rig.front.doWork();
                t.rig.work(0);
                t.rig.work(1);
            }
            t.rig.front.doWork();
            t.rig.reap();
            assertEquals(2, t.rig.completed, "step " + step + ": each posted read completes once");
            assertEquals(1, t.rig.device.port(x).gateDropped(), "step " + step);
            assertEquals(0, t.rig.front.inFlight(), "step " + step);
        }
    }

    @Test
    void zombieAnswerPastEveryWrapOfTheAttemptCounterIsNotTrusted()
    {
        final int x = startThenFence();
        final long zombieToken = cards[x].zombieTokens.get(0);
        final int zombieAttempt = CompletionToken.attempt(zombieToken);
        rig.front.doWork();
        rig.work(1 - x);
        rig.work(1 - x);
        rig.work(x);
        rig.front.doWork();
        assertTrue(rig.device.port(x).unfence());
        assertEquals(1, rig.reap());

        // Reuse the one head until its attempt number has wrapped the token's field: the zombie
        // answers each time the live attempt's low 16 bits, and then all its bits, equal its own.
        int lies = 0;
        boolean pastFullWrap = false;
        for (long uses = 0; !pastFullWrap; uses++)
        {
            final int c = rig.postAndDispatch();
            rig.work(c); // started, answered at the next poll
            final long live = cards[c].started.get(cards[c].started.size() - 1);
            cards[c].started.clear();
            final int liveAttempt = CompletionToken.attempt(live);
            assertEquals(CompletionToken.head(zombieToken), CompletionToken.head(live), "the driver reuses one head");
            if ((liveAttempt & 0xFFFF) == (zombieAttempt & 0xFFFF))
            {
                lies += cards[x].release();
                pastFullWrap = liveAttempt == zombieAttempt && uses > 1;
                rig.front.doWork();
                assertEquals(0, rig.reap(), "a zombie's answer matched a request " + uses + " uses later");
            }
            rig.work(c);
            rig.front.doWork();
            assertEquals(1, rig.reap(), "use " + uses);
            assertTrue(uses < 3L << CompletionToken.ATTEMPT_BITS, "the attempt field never wrapped");
        }
        assertTrue(lies >= 16, "lies told: " + lies);
        assertEquals(lies, rig.device.port(x).gateDropped());
        assertEquals(0, rig.front.inFlight());
    }

    @Test
    void aCancelFromAFencedCardIsAFailoverReplayNotACardError()
    {
        final int x = rig.postAndDispatch();
        // Still in x's submission ring when x is fenced: its worker answers CANCELLED, and that
        // answer reaches the front queue before the front queue looks at the new generation.
        rig.device.port(x).fence();
        rig.work(x);
        rig.front.doWork();
        assertEquals(1, rig.front.outstanding(1 - x), "replayed on the surviving card");
        rig.work(1 - x);
        rig.work(1 - x);
        rig.front.doWork();
        assertEquals(1, rig.reap());
        assertEquals(1, rig.device.failovers().replays(x), "the failover went uncounted");
    }
}
