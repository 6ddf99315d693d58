package dev.braid.aggregator;

import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.ha.AllDownPolicy;
import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The all-down deadline is counted from a request's first trouble: a card that keeps coming back
 * for a moment and failing again (each time it takes the request, it is fenced before answering)
 * must not keep the request waiting past the deadline, however often it replays.
 */
class NoPathDeadlineTest
{
    static final long DEADLINE = TimeUnit.MILLISECONDS.toNanos(50);
    static final long CYCLE = TimeUnit.MILLISECONDS.toNanos(7);
    static final long STATUS_GPA = 0x40000 + 16 + 512;

    final VirtualClock clock = new VirtualClock();
    final GuestMemory memory = GuestMemory.allocate(1 << 20);
    final RingLayout layout = RingLayout.split(0x1000, 4, 4);
    final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, false);
    final ZombieCompletionTest.ZombieCard card = new ZombieCompletionTest.ZombieCard("flapper");
    final AggregatedDevice device;
    final List<Agent> agents;
    final FrontQueue front;

    NoPathDeadlineTest()
    {
        final DeviceQueue queue = new SplitQueue(memory, 4, layout.descGpa(), layout.availGpa(), layout.usedGpa(),
            false, true);
        final RequestHandler handler = new BlkRequestHandler(memory,
            new BlkRequestParser().capacity(4096), 4, 16, "flap".getBytes(StandardCharsets.US_ASCII));
        device = AggregatedDevice.builder().clock(clock).card(card)
            .queues(new DeviceQueue[]{queue}, new RequestHandler[]{handler})
            .probeHandler(new BlkProbeHandler(8))
            .mapPolicy(new ActiveActivePolicy(1, DispatchMode.REQUEST_SPRAY))
            .dispatchPolicy(DispatchPolicy.requestSpray(SelectorKind.ROUND_ROBIN))
            .allDownPolicy(AllDownPolicy.queueUntilDeadline(DEADLINE))
            .build();
        agents = device.agents();
        front = device.frontQueue(0);
    }

    /** A one-sector read of sector 0: header at 0x40000, data after it, status at {@link #STATUS_GPA} (0x7F until answered). */
    static void postRead(final GuestMemory memory, final SplitDriverQueue driver)
    {
        memory.putInt(0x40000, 0); // VIRTIO_BLK_T_IN
        memory.putLong(0x40000 + 8, 0);
        memory.putByte(STATUS_GPA, (byte)0x7F);
        assertTrue(driver.addChain(new BufferChain(4).readable(0x40000, 16).writable(0x40000 + 16, 512)
            .writable(STATUS_GPA, 1), true) >= 0);
        driver.publish();
    }

    private void worker()
    {
        try
        {
            agents.stream().filter(a -> a instanceof CardWorker).findFirst().orElseThrow().doWork();
        }
        catch (final Exception ex)
        {
            throw new AssertionError(ex);
        }
    }

    @Test
    void aFlappingCardCannotHoldARequestPastTheDeadlineFromItsFirstTrouble()
    {
        postRead(memory, driver);

        final long start = clock.nanoTime();
        long firstTrouble = -1;
        final int[] reaped = {0};
        int fences = 0;
        while (reaped[0] == 0)
        {
            front.doWork();
            worker(); // the card takes the request (it answers one poll later)
            // ... and fails before it answers: fenced, replayed, readmitted a moment later.
            final CardPort port = device.port(0);
            port.fence();
            fences++;
            if (firstTrouble < 0)
            {
                firstTrouble = clock.nanoTime();
            }
            clock.advanceBy(CYCLE);
            front.doWork();
            worker();
            assertTrue(port.unfence());
            front.doWork();
            driver.reap((id, len) -> reaped[0]++);
            assertTrue(fences < 1_000, "still waiting after " + fences + " flaps, " +
                TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - start) + " ms");
        }
        final long waited = clock.nanoTime() - firstTrouble;
        assertEquals(1, memory.getByte(STATUS_GPA), "failed with IOERR");
        assertTrue(waited >= DEADLINE && waited <= DEADLINE + 2 * CYCLE,
            "failed " + TimeUnit.NANOSECONDS.toMillis(waited) + " ms after its first trouble, deadline " +
                TimeUnit.NANOSECONDS.toMillis(DEADLINE) + " ms");
        assertEquals(0, front.inFlight());
    }
}
