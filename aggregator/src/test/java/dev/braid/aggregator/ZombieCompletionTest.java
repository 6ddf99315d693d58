package dev.braid.aggregator;

import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
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
    static final class ZombieCard extends FenceRaceTest.RecordingCard
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
            final int n = toComplete.size();
            for (int i = 0; i < n; i++)
            {
                sinks.get(i).complete(toComplete.get(i), CardStatus.OK, 512);
            }
            toComplete.clear();
            sinks.clear();
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

    final VirtualClock clock = new VirtualClock();
    final GuestMemory memory = GuestMemory.allocate(1 << 20);
    // One request at a time, each one indirect descriptor: the driver reuses the same head, so its
    // attempt number climbs as fast as it can.
    final RingLayout layout = RingLayout.split(0x1000, 4, 4);
    final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, false);
    final ZombieCard[] cards = {new ZombieCard("a"), new ZombieCard("b")};
    final AggregatedDevice device;
    final List<Agent> agents;
    final FrontQueue front;
    int completed;

    ZombieCompletionTest()
    {
        final DeviceQueue queue = new SplitQueue(memory, 4, layout.descGpa(), layout.availGpa(), layout.usedGpa(),
            false, true);
        final RequestHandler handler = new BlkRequestHandler(memory,
            new BlkRequestParser().capacity(4096), 4, 16, "zombie".getBytes(StandardCharsets.US_ASCII));
        device = AggregatedDevice.builder().clock(clock).card(cards[0]).card(cards[1])
            .queues(new DeviceQueue[]{queue}, new RequestHandler[]{handler})
            .probeHandler(new BlkProbeHandler(8))
            .mapPolicy(new ActiveActivePolicy(1, DispatchMode.REQUEST_SPRAY))
            .dispatchPolicy(DispatchPolicy.requestSpray(SelectorKind.ROUND_ROBIN))
            .build();
        agents = device.agents();
        front = device.frontQueue(0);
    }

    private void work(final int card)
    {
        try
        {
            // One card worker per card, in card order.
            agents.stream().filter(a -> a instanceof CardWorker).toList().get(card).doWork();
        }
        catch (final Exception ex)
        {
            throw new AssertionError(ex);
        }
    }

    private void postRead()
    {
        final long gpa = 0x40000;
        memory.putInt(gpa, 0); // VIRTIO_BLK_T_IN
        memory.putInt(gpa + 4, 0);
        memory.putLong(gpa + 8, 0);
        final BufferChain chain = new BufferChain(4).readable(gpa, 16).writable(gpa + 16, 512)
            .writable(gpa + 16 + 512, 1);
        assertTrue(driver.addChain(chain, true) >= 0);
        driver.publish();
    }

    private int reap()
    {
        final int n = driver.reap((id, len) -> completed++);
        return n;
    }

    private int cardHolding()
    {
        for (int c = 0; c < 2; c++)
        {
            if (front.outstanding(c) == 1)
            {
                return c;
            }
        }
        return fail("the request is on no card");
    }

    /** Posts a read, starts it on a card and fences that card with the read held by the zombie. */
    private int startThenFence()
    {
        postRead();
        front.doWork();
        final int x = cardHolding();
        work(x); // started on x, not yet answered
        assertEquals(1, cards[x].started.size());
        device.port(x).fence();
        return x;
    }

    @Test
    void zombieAnswerAtTheInstantOfTheFenceIsNotTrusted()
    {
        final int x = startThenFence();
        final int y = 1 - x;
        assertEquals(1, cards[x].release(), "the zombie answers before the front queue looked at anything");

        front.doWork();
        assertEquals(0, reap(), "the zombie's OK reached the guest: a read that read nothing");
        assertEquals(1, front.outstanding(y), "replayed on the surviving card");
        work(y);
        work(y);
        front.doWork();
        assertEquals(1, reap(), "the replay completed");
        assertEquals(1, device.port(x).gateDropped());
        assertEquals(0, front.inFlight());
    }

    @Test
    void zombieAnswerAfterEveryStepOfTheFailoverIsNotTrusted()
    {
        // Release the lie after 0, 1, 2, ... steps of: replay, replay done, card caught up, unfence,
        // the card serving again.
        for (int step = 0; step <= 7; step++)
        {
            final ZombieCompletionTest rig = new ZombieCompletionTest();
            final int x = rig.startThenFence();
            final int y = 1 - x;
            final Runnable[] steps = {
                () -> rig.front.doWork(),
                () -> rig.work(y),
                () -> rig.work(y),
                () -> rig.front.doWork(),
                () -> rig.work(x),
                () -> assertTrue(rig.device.port(x).unfence()),
                () -> { rig.reap(); rig.postRead(); rig.front.doWork(); rig.work(0); rig.work(1); }
            };
            for (int i = 0; i < steps.length; i++)
            {
                if (i == step)
                {
                    rig.cards[x].release();
                }
                steps[i].run();
            }
            if (step == steps.length)
            {
                rig.cards[x].release();
            }
            for (int i = 0; i < 4; i++)
            {
                rig.front.doWork();
                rig.work(0);
                rig.work(1);
            }
            rig.front.doWork();
            rig.reap();
            assertEquals(2, rig.completed, "step " + step + ": each posted read completes once");
            assertEquals(1, rig.device.port(x).gateDropped(), "step " + step);
            assertEquals(0, rig.front.inFlight(), "step " + step);
        }
    }

    @Test
    void zombieAnswerPastEveryWrapOfTheAttemptCounterIsNotTrusted()
    {
        final int x = startThenFence();
        final long zombieToken = cards[x].zombieTokens.get(0);
        final int zombieAttempt = CompletionToken.attempt(zombieToken);
        front.doWork();
        work(1 - x);
        work(1 - x);
        work(x);
        front.doWork();
        assertTrue(device.port(x).unfence());
        assertEquals(1, reap());

        // Reuse the one head until its attempt number has wrapped the token's field: the zombie
        // answers each time the live attempt's low 16 bits, and then all its bits, equal its own.
        int lies = 0;
        boolean pastFullWrap = false;
        for (long uses = 0; !pastFullWrap; uses++)
        {
            postRead();
            front.doWork();
            final int c = cardHolding();
            work(c); // started, answered at the next poll
            final long live = cards[c].started.get(cards[c].started.size() - 1);
            cards[c].started.clear();
            final int liveAttempt = CompletionToken.attempt(live);
            assertEquals(CompletionToken.head(zombieToken), CompletionToken.head(live), "the driver reuses one head");
            if ((liveAttempt & 0xFFFF) == (zombieAttempt & 0xFFFF))
            {
                lies += cards[x].release();
                pastFullWrap = liveAttempt == zombieAttempt && uses > 1;
                front.doWork();
                assertEquals(0, reap(), "a zombie's answer matched a request " + uses + " uses later");
            }
            work(c);
            front.doWork();
            assertEquals(1, reap(), "use " + uses);
            assertTrue(uses < 3L << CompletionToken.ATTEMPT_BITS, "the attempt field never wrapped");
        }
        assertTrue(lies >= 16, "lies told: " + lies);
        assertEquals(lies, device.port(x).gateDropped());
        assertEquals(0, front.inFlight());
    }

    @Test
    void aCancelFromAFencedCardIsAFailoverReplayNotACardError()
    {
        postRead();
        front.doWork();
        final int x = cardHolding();
        // Still in x's submission ring when x is fenced: its worker answers CANCELLED, and that
        // answer reaches the front queue before the front queue looks at the new generation.
        device.port(x).fence();
        work(x);
        front.doWork();
        assertEquals(1, front.outstanding(1 - x), "replayed on the surviving card");
        work(1 - x);
        work(1 - x);
        front.doWork();
        assertEquals(1, reap());
        assertEquals(1, device.failovers().replays(x), "the failover went uncounted");
    }
}
