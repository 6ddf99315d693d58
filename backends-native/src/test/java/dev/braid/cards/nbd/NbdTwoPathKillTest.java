package dev.braid.cards.nbd;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.cards.rig.VerifyingBlkGuests;
import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.ha.HealthConfig;
import dev.braid.testkit.NbdServers;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
                servers.qemuNbdPath(image, "shared", false), servers.qemuNbdPath(image, "shared", true)};
            final NbdBlockCard[] cards = new NbdBlockCard[2];
            final boolean[] wentDown = new boolean[2];
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    cards[i] = NbdBlockCard.open(new NbdCardContext().uri(paths[i].uri()).name("path" + i)
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
        final VerifyingBlkGuests guests = new VerifyingBlkGuests(QUEUES, QUEUE_SIZE, 8, REQUESTS_PER_QUEUE, seed);
        final AggregatedDevice device = VirtioBlkDevice.aggregate(new VirtioBlkDevice.Context()
            .memory(guests.memory).cards(List.of(cards)).queueCount(QUEUES).queueMaxSize(QUEUE_SIZE).maxSegments(16).seed(seed)
            .aggregation(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE))
            .health(new HealthConfig().completionTimeoutNanos(TimeUnit.SECONDS.toNanos(3))
                .minDownNanos(TimeUnit.MILLISECONDS.toNanos(50)).probeIntervalNanos(TimeUnit.MILLISECONDS.toNanos(20))),
            guests.deviceQueues, VirtioBlkDevice.offeredFeatures());
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
        try
        {
            final boolean[] killed = new boolean[1];
            guests.runAndVerify(threads, 2, done ->
            {
                if (!killed[0] && done > REQUESTS_PER_QUEUE * QUEUES / 3)
                {
                    victim.kill();
                    killed[0] = true;
                    System.out.println("NbdTwoPathKillTest: SIGKILL after " + done + " requests");
                }
            });
            assertTrue(killed[0], "the workload ended before the kill");
            // Before close(), which takes both links down.
            synchronized (wentDown)
            {
                downDuringRun[0] = wentDown[0];
                downDuringRun[1] = wentDown[1];
            }
            System.out.println("NbdTwoPathKillTest: path0 failure: " + cards[0].lastFailure() +
                "; requests in flight on it at the kill: " + cards[0].abortedCount() +
                "; reads " + guests.reads() + " writes " + guests.writes());
        }
        finally
        {
            threads.close();
        }
    }
}
