package dev.braid.cards.nbd;

import dev.braid.testkit.NbdServers;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fence against a busy card: workers keep every slot of every queue reading non-poison data from
 * qemu-nbd; the control thread fences, poisons every read buffer at once,
 * waits, and checks the poison. A read answered after fence() returned would overwrite it.
 */
class NbdFenceRaceTest
{
    private static final int QUEUES = 4;
    private static final int DEPTH = 8;
    private static final int LENGTH = 16 << 10;
    private static final int ROUNDS = 20;

    @TempDir
    Path dir;

    @Test
    void noReadLandsAfterFenceReturns() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            // A sparse image reads as zeros, never the poison. qemu-nbd, not nbdkit: nbdkit 1.32 sometimes
            // aborts (exit 134) when a client resets a connection with requests in flight, as a fence does.
            final NbdServers.Server server = servers.qemuNbd(servers.image("race.raw", 16 << 20), "race", true);
            final NbdTestRig rig = new NbdTestRig(QUEUES * DEPTH * (long)LENGTH);
            try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("race")
                .queueCount(QUEUES).queueDepth(DEPTH).reconnectBackoff(1, 20, TimeUnit.MILLISECONDS)))
            {
                final AtomicReference<Throwable> failure = new AtomicReference<>();
                final AtomicLong completedOk = new AtomicLong();
                final AtomicLong cancelled = new AtomicLong();
                final Thread[] workers = new Thread[QUEUES];
                final boolean[] stop = new boolean[1];
                for (int q = 0; q < QUEUES; q++)
                {
                    final int queue = q;
                    workers[q] = new Thread(() ->
                    {
                        try
                        {
                            final BlockIo[] ios = new BlockIo[DEPTH];
                            final boolean[] busy = new boolean[DEPTH];
                            for (int s = 0; s < DEPTH; s++)
                            {
                                ios[s] = rig.dataIo(BlockIo.READ, (queue * DEPTH + s) * (LENGTH / 512L),
                                    (long)(queue * DEPTH + s) * LENGTH, LENGTH, 2);
                            }
                            final CompletionSink sink = (token, status, length) ->
                            {
                                busy[(int)token] = false;
                                if (status == CardStatus.OK)
                                {
                                    completedOk.incrementAndGet();
                                }
                                else if (status == CardStatus.CANCELLED || status == CardStatus.IO_ERROR)
                                {
                                    cancelled.incrementAndGet();
                                }
                                return true;
                            };
                            while (!isStopped(stop))
                            {
                                for (int s = 0; s < DEPTH; s++)
                                {
                                    if (!busy[s] && card.submit(queue, ios[s], s, sink))
                                    {
                                        busy[s] = true;
                                    }
                                }
                                card.poll(queue);
                            }
                        }
                        catch (final Throwable ex)
                        {
                            failure.compareAndSet(null, ex);
                        }
                    }, "worker-" + q);
                    workers[q].start();
                }
                try
                {
                    for (int round = 0; round < ROUNDS; round++)
                    {
                        final long okBefore = completedOk.get();
                        final int r0 = round;
                        waitUntil(() -> completedOk.get() > okBefore + 50 || null != failure.get(), () -> "reads flowing in round " + r0);
                        card.fence();
                        rig.poison(0, QUEUES * DEPTH * LENGTH);
                        Thread.sleep(30);
                        rig.assertPoisoned(0, QUEUES * DEPTH * LENGTH, "round " + round + ": guest buffers after fence");
                        final int r = round;
                        waitUntil(card::isLinkUp, () -> "reconnect in round " + r + " (last attempt: " + card.lastReconnectFailure() +
                            ", server alive " + server.process().isAlive() + (server.process().isAlive() ? "" : " exit " + server.process().exitValue()) + ", log: " + readLog(server) + ")");
                        card.unfence();
                    }
                }
                finally
                {
                    synchronized (stop)
                    {
                        stop[0] = true;
                    }
                    for (final Thread worker : workers)
                    {
                        worker.join(10_000);
                    }
                }
                assertNull(failure.get(), "a worker failed");
                assertNull(card.lastFailure(), "a fence is not a failure");
                assertTrue(cancelled.get() > 0, "no fence caught a read in flight: the test cannot fail");
                assertEquals(ROUNDS, card.reconnectCount());
                System.out.println("NbdFenceRaceTest: " + completedOk.get() + " reads, " + cancelled.get() +
                    " cancelled by " + ROUNDS + " fences");
            }
        }
    }

    private static boolean isStopped(final boolean[] stop)
    {
        synchronized (stop)
        {
            return stop[0];
        }
    }

    private static String readLog(final NbdServers.Server server)
    {
        try
        {
            return java.nio.file.Files.readString(server.log());
        }
        catch (final java.io.IOException ex)
        {
            return ex.toString();
        }
    }

    private static void waitUntil(final java.util.function.BooleanSupplier condition, final java.util.function.Supplier<String> what)
        throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(1);
        }
    }
}
