package dev.braid.aggregator;

import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardEventListener;
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
        boolean fenced;
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
            return 8;
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

    final VirtualClock clock = new VirtualClock();
    final GuestMemory memory = GuestMemory.allocate(1 << 20);
    final RingLayout layout = RingLayout.split(0x1000, 8, 4);
    final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, false);
    final RecordingCard[] cards = {new RecordingCard("a"), new RecordingCard("b")};
    AggregatedDevice device;
    List<Agent> agents;
    FrontQueue front;
    final int[] used = new int[8];

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

        public boolean isPathFailure(final int status)
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

    FenceRaceTest()
    {
        build(null);
    }

    private void build(final RequestHandler custom)
    {
        final DeviceQueue queue = new SplitQueue(memory, 8, layout.descGpa(), layout.availGpa(), layout.usedGpa(),
            false, true);
        final RequestHandler handler = custom != null ? custom : new BlkRequestHandler(memory,
            new BlkRequestParser().capacity(4096), 8, 16, "fence-race".getBytes(StandardCharsets.US_ASCII));
        device = AggregatedDevice.builder().clock(clock).card(cards[0]).card(cards[1])
            .queues(new DeviceQueue[]{queue}, new RequestHandler[]{handler})
            .probeHandler(new BlkProbeHandler(8))
            .mapPolicy(new ActiveActivePolicy(1, DispatchMode.REQUEST_SPRAY))
            .dispatchPolicy(DispatchPolicy.requestSpray(SelectorKind.ROUND_ROBIN))
            .build();
        agents = device.agents();
        front = device.frontQueue(0);
    }

    private Agent worker(final int card)
    {
        // Agents: the control conductor, the front queue, then one worker per card (one queue each).
        return agents.stream().filter(a -> a instanceof CardWorker).toList().get(card);
    }

    private void work(final int card)
    {
        try
        {
            worker(card).doWork();
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
        assertTrue(driver.addChain(chain, false) >= 0);
        driver.publish();
    }

    private int reap()
    {
        return driver.reap((id, len) -> used[id]++);
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

    /** Fences the card, lets the front queue replay elsewhere and complete, then unfences. */
    private void fenceReplayCompleteUnfence(final int x)
    {
        final int y = 1 - x;
        device.port(x).fence();
        front.doWork();
        assertEquals(1, front.outstanding(y), "replayed on the other card");
        device.port(x).unfence();
        work(y);
        front.doWork();
        assertEquals(1, reap(), "the replay completed to the guest");
    }

    @Test
    void tokenStillInTheSubmissionRingIsNotStartedAfterFenceAndUnfence()
    {
        postRead();
        front.doWork();
        final int x = cardHolding();

        fenceReplayCompleteUnfence(x);
        work(x);
        front.doWork();

        assertEquals(List.of(), cards[x].started, "the superseded attempt started on the unfenced card");
        assertEquals(0, reap(), "no second completion");
        assertEquals(0, front.inFlight());
    }

    @Test
    void tokenInTheWorkerBacklogIsNotStartedAfterFenceAndUnfence()
    {
        postRead();
        front.doWork();
        final int x = cardHolding();
        cards[x].full = true;
        work(x); // the token moves to the worker's backlog

        fenceReplayCompleteUnfence(x);
        cards[x].full = false;
        work(x);
        front.doWork();

        assertEquals(List.of(), cards[x].started, "the superseded attempt started on the unfenced card");
        assertEquals(0, reap(), "no second completion");
        assertEquals(0, front.inFlight());
    }

    @Test
    void fenceAndUnfenceBetweenTheWorkersCheckAndItsSubmitCannotStartTheOldAttempt()
    {
        postRead();
        front.doWork();
        final int x = cardHolding();
        final int y = 1 - x;
        final boolean[] once = {true};
        // The worker has checked the fence and is about to submit when the whole failover runs.
        cards[x].onSubmit = () ->
        {
            if (once[0])
            {
                once[0] = false;
                device.port(x).fence();
                front.doWork();
                device.port(x).unfence();
                work(y);
                front.doWork();
            }
        };
        work(x);
        front.doWork();

        assertEquals(List.of(), cards[x].started, "the superseded attempt started on the unfenced card");
        assertEquals(1, reap(), "exactly one completion");
        assertEquals(0, front.inFlight());
    }

    @Test
    void tokenOfferedAfterTheFenceWithAnOlderGenerationIsRefusedAfterTheUnfence()
    {
        final CardPort port = device.port(0);
        port.fence();
        assertFalse(port.unfence(), "no unfence before the card's worker caught up with the fence");
        work(0);
        assertTrue(port.unfence());
        // A front queue that read generation 0, then lost the CPU until after the unfence.
        assertTrue(port.submissionRing(0).offer(CompletionToken.encode(0, 3, 0, 0)));
        work(0);
        assertEquals(List.of(), cards[0].started, "a token dispatched before the fence started");
        assertTrue(port.submissionRing(0).offer(CompletionToken.encode(0, 3, 1, 0)));
        work(0);
        assertEquals(1, cards[0].started.size(), "a token of the current generation starts");
    }

    @Test
    void pulledBufferIsNotReplayedWhileAReceiveBegunBeforeTheFenceMayStillWriteIt()
    {
        final PullHandler pull = new PullHandler();
        final FenceRaceTest rig = new FenceRaceTest();
        rig.build(pull);
        rig.postRead();
        rig.front.doWork();
        final int x = rig.cardHolding();
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
