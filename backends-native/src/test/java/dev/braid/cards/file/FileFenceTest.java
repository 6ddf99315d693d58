package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;

/**
 * Fence with requests in the kernel: after fence() returns, guest memory must not change any more,
 * and every request reports CANCELLED (never OK) once the worker polls.
 */
class FileFenceTest
{
    private static final int DEPTH = 32;
    private static final int SIZE = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void fenceWaitsForTheKernelAndNothingTouchesGuestMemoryAfterIt() throws IOException, InterruptedException
    {
        final long seed = Long.getLong("braid.seed", System.nanoTime());
        System.out.println("FileFenceTest seed " + seed + " (replay with -Dbraid.seed=" + seed + ")");
        final Random random = new Random(seed);
        try (FileCardRig rig = new FileCardRig(dir, 64 << 20, DEPTH))
        {
            final byte[] fileData = new byte[4 << 20];
            random.nextBytes(fileData);
            rig.writeFile(0, fileData);
            final BlockIo[] ios = new BlockIo[DEPTH];
            final int guestBytes = (int)(2 * FileCardRig.REGION);
            final byte[] before = new byte[guestBytes];
            final byte[] after = new byte[guestBytes];
            long token = 1;
            int totalCancelled = 0;
            int pendingAtFence = 0;
            for (int round = 0; round < 20; round++)
            {
                rig.memory.setMemory(0, guestBytes, (byte)0x5A); // poison
                for (int i = 0; i < DEPTH; i++)
                {
                    final boolean write = random.nextInt(4) == 0;
                    // Aligned reads/writes spread over the file (O_DIRECT: real device I/O).
                    final long sector = (long)random.nextInt((64 << 20) / SIZE) * (SIZE / 512);
                    ios[i] = FileCardRig.io(rig.memory, write ? BlockIo.WRITE : BlockIo.READ, sector, (long)i * SIZE, SIZE);
                    assertTrue(rig.card.submit(0, ios[i], token + i, rig.sink));
                }
                final int start = rig.completed;
                rig.card.poll(0); // every entry is in the kernel (each submit entered); some may finish at once
                rig.card.fence();
                final boolean[] reportedBeforeFence = new boolean[DEPTH];
                int pending = 0;
                for (int i = 0; i < DEPTH; i++)
                {
                    reportedBeforeFence[i] = rig.done[(int)(token + i)];
                    pending += reportedBeforeFence[i] ? 0 : 1;
                }
                pendingAtFence += pending;
                assertFalse(rig.card.submit(0, ios[0], 999_999, rig.sink), "a fenced card refuses submissions");

                rig.memory.getBytes(0, before, 0, guestBytes);
                Thread.sleep(20);
                final int reported = pollUntil(rig, start, DEPTH);
                Thread.sleep(20);
                rig.memory.getBytes(0, after, 0, guestBytes);
                assertArrayEquals(before, after, "guest memory changed after fence() returned (round " + round + ")");
                assertEquals(DEPTH, reported, "round " + round + ", card failure: " + rig.card.failure());
                for (int i = 0; i < DEPTH; i++)
                {
                    final int s = rig.status[(int)(token + i)];
                    if (!reportedBeforeFence[i])
                    {
                        assertEquals(CardStatus.CANCELLED, s, "request " + i + " reported after fence: " + CardStatus.describe(s));
                    }
                    else
                    {
                        assertEquals(CardStatus.OK, s, "request " + i + " reported before fence: " + CardStatus.describe(s));
                    }
                    rig.done[(int)(token + i)] = false;
                }
                totalCancelled += pending;
                assertEquals(0, rig.card.inFlight(0));
                rig.card.unfence();
                token += DEPTH;
            }
            System.out.println("FileFenceTest: " + pendingAtFence + " of " + 20 * DEPTH + " requests unreported when fence() was called");
            assertTrue(pendingAtFence > 0, "no fence ever met a request in flight: the test proves nothing");
            assertTrue(rig.card.isLinkUp(), "fence within the deadline must not fail the card: " + rig.card.failure());
            assertEquals(totalCancelled, rig.card.cancelledCount());
            assertEquals(0, rig.card.abandonedCount());

            // After unfence the card serves again.
            final BlockIo io = FileCardRig.io(rig.memory, BlockIo.READ, 0, 0, SIZE);
            assertEquals(CardStatus.OK, rig.run(io, token));
            final byte[] got = new byte[SIZE];
            rig.memory.getBytes(0, got, 0, SIZE);
            final byte[] want = new byte[SIZE];
            System.arraycopy(fileData, 0, want, 0, SIZE);
            // Earlier rounds may have written sector 0; compare with the file itself.
            assertArrayEquals(rig.readFile(0, SIZE), got);
        }
    }

    @Test
    void fenceFromAnotherThreadDoesNotNeedTheWorkerToRun() throws Exception
    {
        try (FileCardRig rig = new FileCardRig(dir, 64 << 20, DEPTH))
        {
            final byte[] fileData = new byte[8 << 20];
            new Random(7).nextBytes(fileData);
            rig.writeFile(0, fileData);
            final java.util.concurrent.CountDownLatch submitted = new java.util.concurrent.CountDownLatch(1);
            final java.util.concurrent.CountDownLatch fenced = new java.util.concurrent.CountDownLatch(1);
            final int[] reported = new int[1];
            final Thread worker = new Thread(() ->
            {
                for (int i = 0; i < DEPTH; i++)
                {
                    final long sector = (long)i * (1 << 20) / 512;
                    rig.card.submit(0, FileCardRig.io(rig.memory, BlockIo.READ, sector, (long)i * SIZE, SIZE), 100 + i, rig.sink);
                }
                rig.card.poll(0);
                submitted.countDown();
                try
                {
                    // The worker sleeps through the fence: the kernel must still post its CQEs.
                    fenced.await();
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
                final long deadline = System.nanoTime() + 10_000_000_000L;
                while (rig.card.inFlight(0) > 0 && System.nanoTime() < deadline)
                {
                    reported[0] += rig.card.poll(0);
                }
            }, "file-card-worker");
            worker.start();
            submitted.await();
            final long start = System.nanoTime();
            rig.card.fence();
            final long fenceNanos = System.nanoTime() - start;
            fenced.countDown();
            worker.join(20_000);
            System.out.println("FileFenceTest: fence from another thread took " + fenceNanos / 1000 + " us");
            assertTrue(rig.card.isLinkUp(), "fence failed the card: " + rig.card.failure());
            assertEquals(0, rig.card.abandonedCount());
            assertEquals(0, rig.card.inFlight(0));
        }
    }

    @Test
    void fenceOnAnIdleCardReturnsAtOnce() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 4))
        {
            rig.card.fence();
            rig.card.fence();
            rig.card.unfence();
            assertEquals(CardStatus.OK, rig.run(FileCardRig.io(rig.memory, BlockIo.READ, 0, 0, 4096), 1));
        }
    }

    private static int pollUntil(final FileCardRig rig, final int start, final int count)
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (rig.completed - start < count && System.nanoTime() < deadline)
        {
            rig.card.poll(0);
        }
        return rig.completed - start;
    }
}
