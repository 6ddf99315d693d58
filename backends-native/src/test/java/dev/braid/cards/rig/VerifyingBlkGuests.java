package dev.braid.cards.rig;

import dev.braid.aggregator.AgentThreads;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.SleepingIdleStrategy;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Split virtqueues in one guest memory, each driven by a verifying {@link BlkGuestWorkload} over its
 * own sector range: the guest side of the two-paths-to-one-disk tests (file and NBD cards).
 */
public final class VerifyingBlkGuests
{
    public final GuestMemory memory = GuestMemory.allocate(16 << 20);
    public final DeviceQueue[] deviceQueues;
    public final BlkGuestWorkload[] guests;

    /** {@code queues} queues of {@code queueSize}, {@code requests} each, 8192 sectors apart. */
    public VerifyingBlkGuests(final int queues, final int queueSize, final int maxPerRequest, final long requests, final long seed)
    {
        deviceQueues = new DeviceQueue[queues];
        guests = new BlkGuestWorkload[queues];
        long gpa = 0;
        for (int q = 0; q < queues; q++)
        {
            final RingLayout layout = RingLayout.split(gpa, queueSize, 4);
            final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, true);
            deviceQueues[q] = new SplitQueue(memory, queueSize, layout.descGpa(), layout.availGpa(), layout.usedGpa(), true, true);
            final long area = RingLayout.alignUp(layout.endGpa(), 64);
            guests[q] = BlkGuestWorkload.builder().queue(q, driver).memory(memory).areaGpa(area).range(q * 8192L, 8192)
                .maxPerRequest(maxPerRequest).requests(requests).maxOutstanding(16).seed(seed + q).build();
            gpa = RingLayout.alignUp(area + (long)queueSize * BlkGuestWorkload.slotBytes(maxPerRequest), 4096);
        }
    }

    /**
     * Runs the guests on their own thread until all finish (at most 120 s), calling {@code onProgress}
     * with the requests done so far every {@code pollMillis}; then checks that no agent failed and
     * every request completed once, with the bytes last written and no error.
     */
    public void runAndVerify(final AgentThreads threads, final long pollMillis, final Progress onProgress)
        throws Exception
    {
        final AgentRunner guestRunner = new AgentRunner(new SleepingIdleStrategy(10_000), Throwable::printStackTrace,
            null, new CompositeAgent(guests));
        AgentRunner.startOnThread(guestRunner);
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!allFinished() && System.nanoTime() < deadline)
            {
                Thread.sleep(pollMillis);
                onProgress.done(reads() + writes());
            }
            assertNull(threads.failure(), "no agent failed");
            for (final BlkGuestWorkload guest : guests)
            {
                assertTrue(guest.isFinished(), "every request completed (lost: " + guest.outstanding() + ")");
                assertEquals(0, guest.strays(), "duplicate or stray completions");
                assertEquals(0, guest.corrupt(), "reads that did not return the last completed write");
                assertEquals(0, guest.errors(), "guest errors");
            }
        }
        finally
        {
            guestRunner.close();
        }
    }

    /** Told the requests done so far while the guests run (a test kills a path from here). */
    public interface Progress
    {
        void done(long requests) throws Exception;
    }

    public long reads()
    {
        long n = 0;
        for (final BlkGuestWorkload guest : guests)
        {
            n += guest.reads();
        }
        return n;
    }

    public long writes()
    {
        long n = 0;
        for (final BlkGuestWorkload guest : guests)
        {
            n += guest.writes();
        }
        return n;
    }

    private boolean allFinished()
    {
        for (final BlkGuestWorkload guest : guests)
        {
            if (!guest.isFinished())
            {
                return false;
            }
        }
        return true;
    }
}
