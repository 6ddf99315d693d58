package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;

/**
 * {@link FileBlockCard#pollOrWait}: sleeps in the kernel for a completion, never when there is nothing
 * to wait for; {@link FileBlockCard#canWait} says which, as the aggregator's idle card wait asks.
 */
class FileWaitingPollTest
{
    @TempDir
    Path dir;

    @Test
    void nothingInFlightReturnsAtOnce() throws Exception
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 8))
        {
            final long start = System.nanoTime();
            assertEquals(0, rig.card.pollOrWait(0, 5_000_000_000L));
            assertTrue(System.nanoTime() - start < 2_000_000_000L, "no request in flight, yet it slept");
        }
    }

    @Test
    void canWaitOnlyWithARequestInTheKernelAndNothingReady() throws Exception
    {
        // A batch of 8: the submit below prepares its request without entering the kernel (with the
        // default batch of 1 the read of a hole completes inside the submit's enter).
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 8, 256, 8))
        {
            assertFalse(rig.card.canWait(0), "nothing in flight");
            assertTrue(rig.card.submit(0, FileCardRig.io(rig.memory, BlockIo.READ, 0, 0, 4096), 1, rig.sink));
            // Prepared, not yet entered: a waiting poll would submit it and sleep for its CQE.
            assertTrue(rig.card.canWait(0), "a request on the ring and no CQE");
            final long waits = rig.card.waitCalls();
            int calls = 0;
            while (!rig.done[1] && calls < 2)
            {
                rig.card.pollOrWait(0, 5_000_000_000L);
                calls++;
            }
            assertTrue(rig.done[1], "not delivered by " + calls + " waiting poll(s)");
            assertEquals(waits + calls, rig.card.waitCalls(), "each of those polls slept in the kernel");
            assertFalse(rig.card.canWait(0), "delivered: nothing left to wait for");

            assertTrue(rig.card.submit(0, FileCardRig.io(rig.memory, BlockIo.READ, 0, 0, 4096), 2, rig.sink));
            rig.card.fence();
            assertFalse(rig.card.canWait(0), "a fenced card's rings are drained");
        }
    }

    @Test
    void oneCallSleepsUntilTheCompletionAndDeliversIt() throws Exception
    {
        final long seed = Long.getLong("braid.seed", System.nanoTime());
        System.out.println("FileWaitingPollTest seed " + seed + " (replay with -Dbraid.seed=" + seed + ")");
        final Random random = new Random(seed);
        try (FileCardRig rig = new FileCardRig(dir, 8 << 20, 8))
        {
            for (int i = 1; i <= 50; i++)
            {
                final byte[] data = new byte[4096];
                random.nextBytes(data);
                final long sector = random.nextInt((8 << 20) / 4096) * 8L;
                rig.writeFile(sector * 512, data);
                assertTrue(rig.card.submit(0, FileCardRig.io(rig.memory, BlockIo.READ, sector, 0, 4096), i, rig.sink));
                final long start = System.nanoTime();
                // One call submits and waits; a signal may cut a sleep short, so allow a second call.
                int calls = 0;
                while (!rig.done[i] && calls < 2)
                {
                    rig.card.pollOrWait(0, 5_000_000_000L);
                    calls++;
                }
                assertTrue(rig.done[i], "read " + i + " not delivered by " + calls + " waiting poll(s)");
                assertTrue(System.nanoTime() - start < 4_000_000_000L, "slept to the timeout with a CQE posted");
                rig.done[i] = false;
                assertEquals(CardStatus.OK, rig.status[i], CardStatus.describe(rig.status[i]));
                final byte[] got = new byte[4096];
                rig.memory.getBytes(0, got, 0, got.length);
                assertArrayEquals(data, got);
            }
            assertEquals(0, rig.card.inFlight(0));
            assertTrue(rig.card.submitCalls() >= 50);
        }
    }
}
