package dev.braid.cards.nbd;

import dev.braid.testkit.NbdServers;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes at the storage after a path is fenced or fails. Path A is a live qemu-nbd that holds writes
 * (a qemu throttle group, 1 write per second) and finishes them whether or not its client is still
 * there; path B is a plain qemu-nbd over the same image. The guest's sequence: write v1 through A,
 * A is fenced, v1 is replayed and then overwritten by v2 through B. If A's held v1 lands after that,
 * the disk holds v1 and the guest has lost v2.
 */
class NbdWriteDrainTest
{
    private static final int LENGTH = 4096;
    private static final long SECTOR = 64;
    private static final long V1 = 0;
    private static final long V2 = 8192;
    private static final long READ = 16384;
    private static final long BURN = 24576;

    @TempDir
    Path dir;

    @Test
    void aFenceReturnsOnlyOnceTheServerHasAnsweredTheWritesItWasSent() throws Exception
    {
        final Result r = fenceWhileAWriteIsHeld(5_000);
        assertTrue(r.fenceMillis >= 300, "the fence waited for the held write (" + r.fenceMillis + " ms)");
        assertEquals(1, r.drained, "the drain saw the held write answered");
        assertEquals(0, r.risks, "nothing left unanswered");
        assertArrayEquals(r.v2, r.disk, "the disk holds the last write the guest completed (v2)");
    }

    /** The same sequence with the drain off: the held write lands after its replacement. The hazard is real. */
    @Test
    void withoutTheDrainTheHeldWriteLandsAfterItsReplacement() throws Exception
    {
        final Result r = fenceWhileAWriteIsHeld(0);
        assertTrue(r.fenceMillis < 300, "no drain: the fence closed at once (" + r.fenceMillis + " ms)");
        if (Arrays.equals(r.v2, r.disk))
        {
            final String line = "!!! this qemu-nbd dropped the held write when its client went: the late write " +
                "cannot be shown (counted as skipped)";
            System.out.println(line);
            Assumptions.abort(line);
        }
        assertArrayEquals(r.v1, r.disk, "the held v1 landed after v2 and undid it");
    }

    @Test
    void aTimedOutPathHoldsItsWritesCompletionForTheServersAnswer() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final Path image = servers.image("held.raw", 16 << 20);
            final NbdServers.Server slow = servers.qemuNbdThrottledPath(image, "d", 1);
            final NbdTestRig rig = new NbdTestRig(1 << 20);
            try (NbdBlockCard a = NbdBlockCard.open(new NbdCardContext().uri(slow.uri()).name("slow")
                .requestTimeout(200, TimeUnit.MILLISECONDS).writeDrainTimeout(5, TimeUnit.SECONDS)))
            {
                rig.fill(BURN, NbdTestRig.pattern(3, LENGTH));
                rig.expectOk(rig.run(a, 0, rig.dataIo(BlockIo.WRITE, 0, BURN, LENGTH, 1)), LENGTH);
                rig.fill(V1, NbdTestRig.pattern(1, LENGTH));
                final long start = System.nanoTime();
                final int[] result = rig.run(a, 0, rig.dataIo(BlockIo.WRITE, SECTOR, V1, LENGTH, 1));
                final long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(a.lastFailure() != null && a.lastFailure().contains("timed out"), "the path failed: " + a.lastFailure());
                // The server finished the write: its answer, not a guess, completes it.
                rig.expectOk(result, LENGTH);
                assertTrue(millis >= 300, "held until the answer (" + millis + " ms)");
                assertEquals(1, a.drainedWrites());
                assertEquals(0, a.lateWriteRisks());
            }
        }
    }

    private record Result(long fenceMillis, long drained, long risks, byte[] v1, byte[] v2, byte[] disk)
    {
    }

    private Result fenceWhileAWriteIsHeld(final long drainMillis) throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final Path image = servers.image("shared.raw", 16 << 20);
            final NbdServers.Server slow = servers.qemuNbdThrottledPath(image, "d", 1);
            final NbdServers.Server fast = servers.qemuNbdPath(image, "d", true);
            final NbdTestRig rig = new NbdTestRig(1 << 20);
            final byte[] v1 = NbdTestRig.pattern(1, LENGTH);
            final byte[] v2 = NbdTestRig.pattern(2, LENGTH);
            try (NbdBlockCard a = NbdBlockCard.open(new NbdCardContext().uri(slow.uri()).name("a")
                    .writeDrainTimeout(drainMillis, TimeUnit.MILLISECONDS));
                 NbdBlockCard b = NbdBlockCard.open(new NbdCardContext().uri(fast.uri()).name("b")))
            {
                // The throttle lets one write through at once; the next waits about a second.
                rig.fill(BURN, NbdTestRig.pattern(3, LENGTH));
                rig.expectOk(rig.run(a, 0, rig.dataIo(BlockIo.WRITE, 0, BURN, LENGTH, 1)), LENGTH);
                rig.fill(V1, v1);
                final long token = rig.token();
                assertTrue(a.submit(0, rig.dataIo(BlockIo.WRITE, SECTOR, V1, LENGTH, 1), token, rig.sink));
                a.poll(0);
                Thread.sleep(50);
                final long start = System.nanoTime();
                a.fence();
                final long fenceMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertEquals(CardStatus.describe(CardStatus.CANCELLED), CardStatus.describe(rig.await(a, 0, token, 5_000)[0]));
                // The replay of v1, then the guest's next write v2, both through B.
                rig.expectOk(rig.run(b, 0, rig.dataIo(BlockIo.WRITE, SECTOR, V1, LENGTH, 1)), LENGTH);
                rig.fill(V2, v2);
                rig.expectOk(rig.run(b, 0, rig.dataIo(BlockIo.WRITE, SECTOR, V2, LENGTH, 1)), LENGTH);
                // Long past the throttle's second: a held write has landed by now if it ever will.
                Thread.sleep(2_000);
                rig.expectOk(rig.run(b, 0, rig.dataIo(BlockIo.READ, SECTOR, READ, LENGTH, 1)), LENGTH);
                return new Result(fenceMillis, a.drainedWrites(), a.lateWriteRisks(), v1, v2, rig.read(READ, LENGTH));
            }
        }
    }
}
