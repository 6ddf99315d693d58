package dev.braid.aggregator;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An agent thread sleeps in a card for its first completion only when a whole duty cycle found no
 * work, the card has requests outstanding and nothing to report, no worker of the thread has anything
 * queued, the card is not fenced, and no second card of the thread could wait too; otherwise it idles
 * as it was told to.
 */
class CardWaitingIdleStrategyTest
{
    /**
     * A card whose requests sit "in the kernel" until a waiting poll (or {@link #post}) finishes the
     * oldest; finished ones are reported by the next poll, as {@link FenceRaceTest.RecordingCard} does.
     */
    static final class KernelCard extends FenceRaceTest.RecordingCard
    {
        final List<Long> inKernel = new ArrayList<>();
        final List<CompletionSink> inKernelSinks = new ArrayList<>();
        /** The timeout of every waiting poll that slept. */
        final List<Long> waits = new CopyOnWriteArrayList<>();

        KernelCard(final String name)
        {
            super(name);
        }

        public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
        {
            if (fenced || inKernel.size() + toComplete.size() >= depth)
            {
                return false;
            }
            inKernel.add(token);
            inKernelSinks.add(sink);
            return true;
        }

        /** The kernel finishes the oldest request: its completion is ready for the next poll. */
        void post()
        {
            toComplete.add(inKernel.remove(0));
            sinks.add(inKernelSinks.remove(0));
        }

        public boolean canWait(final int queue)
        {
            return !inKernel.isEmpty() && toComplete.isEmpty();
        }

        public int pollOrWait(final int queue, final long timeoutNanos)
        {
            if (!canWait(queue))
            {
                return poll(queue);
            }
            waits.add(timeoutNanos);
            post(); // the first CQE ends the sleep
            return poll(queue);
        }

        /** Keeps what is in the kernel: the port's fenced flag, not the card, must keep the thread awake. */
        public void fence()
        {
            fenced = true;
        }
    }

    /** The strategy the thread was given: counts its idles. */
    static final class CountingIdle implements IdleStrategy
    {
        int idles;

        public void idle(final int workCount)
        {
            if (workCount == 0)
            {
                idles++;
            }
        }

        public void idle()
        {
            idles++;
        }

        public void reset()
        {
        }
    }

    final KernelCard[] cards = {new KernelCard("a"), new KernelCard("b")};
    final HandDrivenBlkRig rig = new HandDrivenBlkRig(cards, 16, false, "card-wait", null);
    final CountingIdle otherwise = new CountingIdle();
    // The test thread is the agent thread: the front queue and both card workers.
    final CardWaitingIdleStrategy idle = new CardWaitingIdleStrategy(rig.device.agents(), otherwise);

    /** Posts a read and runs its card's worker once: the request is in the card's kernel. Returns the card. */
    private int oneInTheKernel()
    {
        final int x = rig.postAndDispatch();
        rig.work(x);
        assertEquals(1, cards[x].inKernel.size());
        return x;
    }

    @Test
    void sleepsInTheCardOnlyAfterACycleWithoutWorkAndNeverWithASubmissionInItsRing()
    {
        final int x = rig.postAndDispatch();
        idle.idle(0); // its worker looked before the front queue dispatched: the token waits in the ring
        assertEquals(List.of(), cards[x].waits, "slept with a submission in the worker's ring");
        assertEquals(1, otherwise.idles);

        rig.work(x);
        idle.idle(1);
        assertEquals(List.of(), cards[x].waits, "slept after a cycle that did work");

        idle.idle(0);
        assertEquals(List.of(AggregatorContext.DEFAULT_CARD_WAIT_NANOS), cards[x].waits,
            "one sleep in the card, bounded by the device's card wait");
        assertEquals(1, otherwise.idles, "the sleep replaces the thread's own idling");
        assertEquals(1, idle.cardWaits());
        rig.front.doWork();
        assertEquals(1, rig.reap(), "the completion the thread slept for reaches the guest");

        idle.idle(0);
        assertEquals(1, cards[x].waits.size(), "nothing in the card: no sleep");
        assertEquals(2, otherwise.idles);
    }

    @Test
    void neverSleepsWhileAWorkerOfTheThreadHasSomethingQueued()
    {
        final int x = oneInTheKernel();
        final int y = 1 - x;
        final CardPort<?> own = rig.device.port(x);
        final CardPort<?> other = rig.device.port(y);

        assertTrue(own.controlRing().offer(1L));
        idle.idle(0);
        assertEquals(List.of(), cards[x].waits, "slept with a control request in its ring");
        assertEquals(1, own.controlRing().drain(token -> { }, 8));

        assertTrue(own.submissionRing(0).offer(1L));
        idle.idle(0);
        assertEquals(List.of(), cards[x].waits, "slept with a submission in its ring");
        assertEquals(1, own.submissionRing(0).drain(token -> { }, 8));

        assertTrue(other.submissionRing(0).offer(1L));
        idle.idle(0);
        assertEquals(List.of(), cards[x].waits, "slept while another worker of the thread had a submission");
        assertEquals(1, other.submissionRing(0).drain(token -> { }, 8));
        assertEquals(3, otherwise.idles);

        idle.idle(0);
        assertEquals(1, cards[x].waits.size(), "with everything drained it sleeps");
    }

    @Test
    void neverSleepsInAFencedCard()
    {
        final int x = oneInTheKernel();
        rig.device.port(x).fence();
        assertTrue(cards[x].canWait(0), "the card itself would still sleep");
        idle.idle(0);
        assertEquals(List.of(), cards[x].waits, "slept in a fenced card");
        assertEquals(1, otherwise.idles);
    }

    @Test
    void twoCardsWithRequestsOutstandingMeanNoSleepOneMeansASleepInIt()
    {
        rig.postRead();
        rig.postRead();
        rig.front.doWork();
        assertEquals(1, rig.front.outstanding(0));
        assertEquals(1, rig.front.outstanding(1));
        rig.work(0);
        rig.work(1);
        idle.idle(0);
        assertEquals(List.of(), cards[0].waits, "a sleep in one card would hold the other's completions");
        assertEquals(List.of(), cards[1].waits);
        assertEquals(1, otherwise.idles);

        cards[1].post();
        rig.work(1);
        idle.idle(0);
        assertEquals(List.of(), cards[1].waits);
        assertEquals(1, cards[0].waits.size(), "card 1 is done: the thread sleeps in card 0");
        rig.front.doWork();
        assertEquals(2, rig.reap());
    }

    @Test
    void aBacklogWaitingForASlotDoesNotKeepTheThreadAwake()
    {
        cards[0].depth = 1;
        cards[1].depth = 1;
        for (int i = 0; i < 3; i++)
        {
            rig.postRead();
        }
        rig.front.doWork();
        final int x = rig.front.outstanding(0) == 2 ? 0 : 1;
        assertEquals(2, rig.front.outstanding(x));
        rig.work(x); // one started, one refused: the worker's backlog
        rig.work(1 - x);
        cards[1 - x].post();
        rig.work(1 - x);
        assertEquals(1, cards[x].inKernel.size());

        idle.idle(0);
        assertEquals(1, cards[x].waits.size(), "only a completion frees the slot the backlog waits for");
        rig.work(x); // reported; the backlog starts on the freed slot
        assertEquals(1, cards[x].inKernel.size());
        idle.idle(0);
        assertEquals(2, cards[x].waits.size());
        rig.front.doWork();
        assertEquals(3, rig.reap());
    }

    @Test
    void aDeviceWithCardWaitZeroNeverSleeps()
    {
        final KernelCard[] quiet = {new KernelCard("a"), new KernelCard("b")};
        final HandDrivenBlkRig zero = new HandDrivenBlkRig(quiet, 8, false, "card-wait", null,
            new AggregatorContext().cardWaitNanos(0));
        final CardWaitingIdleStrategy never = new CardWaitingIdleStrategy(zero.device.agents(), otherwise);
        final int x = zero.postAndDispatch();
        zero.work(x);
        never.idle(0);
        assertEquals(List.of(), quiet[x].waits);
        assertEquals(1, otherwise.idles);
    }

    @Test
    void agentThreadsSleepInTheCardOfTheirWorker() throws Exception
    {
        final KernelCard card = new KernelCard("t");
        final CompletionSink sink = (token, status, length) -> true;
        assertTrue(card.submit(0, new BlockIo(1), 7L, sink));
        final CardPort<BlockCard> port = new CardPort<>(0, card, 64, sink);
        @SuppressWarnings("unchecked")
        final CardWorker<BlockCard> worker = new CardWorker<>(port, 0, new RequestHandler[0], new ControlHandler[0],
            sink, 64, 16, 30_000L);
        try (AgentThreads threads = AgentThreads.start(List.of(worker), 1, AgentThreads.backoff()))
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (card.waits.isEmpty() && System.nanoTime() < deadline)
            {
                Thread.sleep(1);
            }
            assertNull(threads.failure());
        }
        assertEquals(List.of(30_000L), card.waits, "the agent thread slept once in the card, for the worker's wait");
    }
}
