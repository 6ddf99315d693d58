package dev.braid.cards.nbd;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.ha.HealthConfig;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two qemu-nbd processes over one image are two paths to one disk, aggregated into one virtio-blk
 * device that a driver model drives (verifying every read against the last completed write). One
 * server is killed with SIGKILL mid-workload: its card goes down, and no request is lost, duplicated
 * or corrupted.
 */
class NbdTwoPathKillTest
{
    private static final int QUEUES = 2;
    private static final int QUEUE_SIZE = 64;
    private static final long REQUESTS_PER_QUEUE = 3000;

    @TempDir
    Path dir;

    @Test
    void killingOneServerMidWorkloadLosesNoRequest() throws Exception
    {
        final long seed = NbdTestRig.seed("NbdTwoPathKillTest");
        try (NbdServers servers = new NbdServers(dir))
        {
            final Path image = servers.image("shared.raw", 16 << 20);
            final NbdServers.Server[] paths = {
                servers.qemuNbd(image, "shared", false), servers.qemuNbd(image, "shared", true)};
            final NbdBlockCard[] cards = new NbdBlockCard[2];
            final boolean[] wentDown = new boolean[2];
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    cards[i] = NbdBlockCard.open(new NbdCardContext().uri(paths[i].uri).name("path" + i)
                        .queueCount(2).queueDepth(16).requestTimeout(5, TimeUnit.SECONDS)
                        .reconnectBackoff(20, 500, TimeUnit.MILLISECONDS));
                }
                run(seed, cards, paths[0], wentDown);
            }
            finally
            {
                for (final NbdBlockCard card : cards)
                {
                    if (null != card)
                    {
                        card.close();
                    }
                }
            }
            assertTrue(wentDown[0], "the killed path's card reported its link down");
            assertFalse(wentDown[1], "the surviving path stayed up");
            assertNotNull(cards[0].lastFailure());
            assertNotNull(cards[0].lastReconnectFailure(), "the killed path's card retried its server (back-off)");
            assertNull(cards[1].lastFailure(), "surviving path: " + cards[1].lastFailure());
        }
    }

    private static void run(final long seed, final NbdBlockCard[] cards, final NbdServers.Server victim, final boolean[] downDuringRun)
        throws Exception
    {
        final boolean[] wentDown = new boolean[cards.length];
        final GuestMemory memory = GuestMemory.allocate(16 << 20);
        final DeviceQueue[] deviceQueues = new DeviceQueue[QUEUES];
        final BlkGuestWorkload[] guests = new BlkGuestWorkload[QUEUES];
        long gpa = 0;
        for (int q = 0; q < QUEUES; q++)
        {
            final RingLayout layout = RingLayout.split(gpa, QUEUE_SIZE, 4);
            final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, true);
            deviceQueues[q] = new SplitQueue(memory, QUEUE_SIZE, layout.descGpa(), layout.availGpa(), layout.usedGpa(), true, true);
            final long area = RingLayout.alignUp(layout.endGpa(), 64);
            guests[q] = BlkGuestWorkload.builder().queue(q, driver).memory(memory).areaGpa(area).range(q * 8192L, 8192)
                .requests(REQUESTS_PER_QUEUE).maxOutstanding(16).seed(seed + q).build();
            gpa = RingLayout.alignUp(area + (long)QUEUE_SIZE * BlkGuestWorkload.slotBytes(8), 4096);
        }
        final AggregatedDevice device = VirtioBlkDevice.aggregate(new VirtioBlkDevice.Context()
            .memory(memory).cards(List.of(cards)).queueCount(QUEUES).queueMaxSize(QUEUE_SIZE).maxSegments(16).seed(seed)
            .aggregation(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE))
            .health(new HealthConfig().completionTimeoutNanos(TimeUnit.SECONDS.toNanos(3))
                .minDownNanos(TimeUnit.MILLISECONDS.toNanos(50)).probeIntervalNanos(TimeUnit.MILLISECONDS.toNanos(20))),
            deviceQueues, VirtioBlkDevice.offeredFeatures());
        // The device installed its own listeners; watch link changes through a wrapper around them.
        for (int i = 0; i < cards.length; i++)
        {
            final int index = i;
            final CardEventListener deviceListener = cards[i].eventListenerForTest();
            cards[i].setEventListener(new CardEventListener()
            {
                public void onLinkChange(final Card card, final boolean up)
                {
                    if (!up)
                    {
                        synchronized (wentDown)
                        {
                            wentDown[index] = true;
                        }
                    }
                    deviceListener.onLinkChange(card, up);
                }

                public void onCardError(final Card card, final int code)
                {
                    deviceListener.onCardError(card, code);
                }
            });
        }

        final AgentThreads threads = AgentThreads.start(device.agents(), 2, AgentThreads.backoff());
        final Agent[] guestAgents = guests;
        final AgentRunner guestRunner = new AgentRunner(new SleepingIdleStrategy(10_000), Throwable::printStackTrace,
            null, new CompositeAgent(guestAgents));
        AgentRunner.startOnThread(guestRunner);
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            boolean killed = false;
            while (!(guests[0].isFinished() && guests[1].isFinished()) && System.nanoTime() < deadline)
            {
                Thread.sleep(2);
                final long done = guests[0].reads() + guests[0].writes() + guests[1].reads() + guests[1].writes();
                if (!killed && done > REQUESTS_PER_QUEUE * QUEUES / 3)
                {
                    victim.kill();
                    killed = true;
                    System.out.println("NbdTwoPathKillTest: SIGKILL after " + done + " requests");
                }
            }
            assertTrue(killed, "the workload ended before the kill");
            assertNull(threads.failure(), "no agent failed");
            for (final BlkGuestWorkload guest : guests)
            {
                assertTrue(guest.isFinished(), "every request completed (lost: " + guest.outstanding() + ")");
                assertEquals(0, guest.strays(), "duplicate or stray completions");
                assertEquals(0, guest.corrupt(), "reads that did not return the last completed write");
                assertEquals(0, guest.errors(), "guest errors while one path was up");
            }
            // Before close(), which takes both links down.
            synchronized (wentDown)
            {
                downDuringRun[0] = wentDown[0];
                downDuringRun[1] = wentDown[1];
            }
            System.out.println("NbdTwoPathKillTest: path0 failure: " + cards[0].lastFailure() +
                "; requests in flight on it at the kill: " + cards[0].abortedCount() +
                "; reads " + (guests[0].reads() + guests[1].reads()) + " writes " + (guests[0].writes() + guests[1].writes()));
        }
        finally
        {
            guestRunner.close();
            threads.close();
        }
    }
}
