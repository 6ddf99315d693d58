package dev.braid.cards.nbd;

import dev.braid.testkit.NbdServers;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real faults from nbdkit's error and delay filters over its memory plugin. */
class NbdkitFaultTest
{
    private static final int LENGTH = 64 << 10;
    private static final long BUFFER = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void theServersMaximumPayloadIsTheCardsLimit() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final NbdServers.Server server = servers.nbdkit(List.of("blocksize-policy"), "memory", "size=16M",
                "blocksize-maximum=65536");
            final NbdTestRig rig = new NbdTestRig(1 << 20);
            try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("max")))
            {
                assertEquals(65536, card.maxTransferBytes());
                rig.fill(0, NbdTestRig.pattern(5, 131072));
                rig.expectOk(rig.run(card, 0, rig.dataIo(dev.braid.virtio.card.BlockIo.WRITE, 0, 0, 65536, 4)), 65536);
                final int[] tooLarge = rig.run(card, 0, rig.dataIo(dev.braid.virtio.card.BlockIo.WRITE, 0, 0, 131072, 4));
                assertEquals(CardStatus.describe(CardStatus.INVALID), CardStatus.describe(tooLarge[0]),
                    "above the maximum payload: refused before it reaches the server");
                assertNull(card.lastFailure(), "the card did not fail: " + card.lastFailure());
            }
        }
    }

    @Test
    void anEioBurstFailsRequestsWithIoErrorAndCorruptsNothing() throws Exception
    {
        final Path inject = dir.resolve("inject");
        try (NbdServers servers = new NbdServers(dir))
        {
            final NbdServers.Server server = servers.nbdkit(List.of("error"), "memory", "size=16M",
                "error=EIO", "error-rate=100%", "error-file=" + inject);
            final NbdTestRig rig = new NbdTestRig(4 << 20);
            try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("eio")))
            {
                final byte[] data = NbdTestRig.pattern(7, LENGTH);
                rig.fill(0, data);
                rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.WRITE, 64, 0, LENGTH, 4)), LENGTH);

                Files.createFile(inject);
                for (int i = 0; i < 8; i++)
                {
                    rig.poison(BUFFER, LENGTH);
                    final int[] read = rig.run(card, 0, rig.dataIo(BlockIo.READ, 64, BUFFER, LENGTH, 2));
                    assertEquals(CardStatus.describe(CardStatus.IO_ERROR), CardStatus.describe(read[0]), "read in the burst");
                    rig.assertPoisoned(BUFFER, LENGTH, "a failed read's buffer");
                }
                rig.fill(2 << 20, NbdTestRig.pattern(8, LENGTH));
                assertEquals(CardStatus.IO_ERROR, rig.run(card, 0, rig.dataIo(BlockIo.WRITE, 64, 2 << 20, LENGTH, 1))[0]);
                assertTrue(card.isLinkUp(), "an error reply is the request's failure, not the card's");
                assertNull(card.lastFailure());

                Files.delete(inject);
                rig.poison(BUFFER, LENGTH);
                rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.READ, 64, BUFFER, LENGTH, 3)), LENGTH);
                assertArrayEquals(data, rig.read(BUFFER, LENGTH), "the data from before the burst");
            }
        }
    }

    @Test
    void afterFenceAStalledServerWritesNothingIntoGuestMemory() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final NbdServers.Server server = servers.nbdkit(List.of("delay"), "memory", "size=16M", "delay-read=1500ms");
            final NbdTestRig rig = new NbdTestRig(8 << 20);
            final LinkedBlockingQueue<Boolean> links = new LinkedBlockingQueue<>();
            try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("stall").queueDepth(16)
                .reconnectBackoff(10, 100, TimeUnit.MILLISECONDS)))
            {
                card.setEventListener(NbdHostileServerTest.recorder(links));
                final byte[] data = NbdTestRig.pattern(9, LENGTH);
                rig.fill(0, data);
                rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.WRITE, 0, 0, LENGTH, 1)), LENGTH);

                final int reads = 12;
                rig.poison(BUFFER, reads * LENGTH);
                final long[] tokens = new long[reads];
                for (int i = 0; i < reads; i++)
                {
                    tokens[i] = rig.token();
                    assertTrue(card.submit(0, rig.dataIo(BlockIo.READ, 0, BUFFER + (long)i * LENGTH, LENGTH, 2), tokens[i], rig.sink));
                }
                final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                while (System.nanoTime() < end)
                {
                    card.poll(0);
                }
                card.fence();
                assertFalse(card.submit(0, rig.dataIo(BlockIo.READ, 0, BUFFER, LENGTH, 1), rig.token(), rig.sink), "fenced");
                for (final long token : tokens)
                {
                    assertEquals(CardStatus.describe(CardStatus.CANCELLED), CardStatus.describe(rig.await(card, 0, token, 5000)[0]));
                }
                // The server answers every read 1.5 s after it got it; none of it may land.
                Thread.sleep(2500);
                card.poll(0);
                rig.assertPoisoned(BUFFER, reads * LENGTH, "guest buffers after fence");
                assertEquals(Boolean.FALSE, links.poll(1, TimeUnit.SECONDS), "fence takes the link down");

                if (!server.process().isAlive() && server.process().exitValue() == 134)
                {
                    // nbdkit 1.32 sometimes aborts when a client resets a connection with requests in flight.
                    System.out.println("!!! nbdkit aborted (exit 134) after the fence reset its connection: reconnect not checked");
                    return;
                }
                assertEquals(Boolean.TRUE, links.poll(10, TimeUnit.SECONDS),
                    "the card reconnects while fenced (last attempt: " + card.lastReconnectFailure() + ", link " + card.isLinkUp() +
                    ", server alive " + server.process().isAlive() + ", log: " + Files.readString(server.log()) + ")");
                card.unfence();
                rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.READ, 0, BUFFER, LENGTH, 1)), LENGTH);
                assertArrayEquals(data, rig.read(BUFFER, LENGTH));
            }
        }
    }

    @Test
    void aStallPastTheRequestTimeoutFailsTheCard() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final NbdServers.Server server = servers.nbdkit(List.of("delay"), "memory", "size=16M", "delay-read=1500ms");
            final NbdTestRig rig = new NbdTestRig(4 << 20);
            final LinkedBlockingQueue<Boolean> links = new LinkedBlockingQueue<>();
            try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("slow")
                .requestTimeout(300, TimeUnit.MILLISECONDS).reconnectBackoff(10, 100, TimeUnit.MILLISECONDS)))
            {
                card.setEventListener(NbdHostileServerTest.recorder(links));
                rig.poison(BUFFER, LENGTH);
                final int[] read = rig.run(card, 0, rig.dataIo(BlockIo.READ, 0, BUFFER, LENGTH, 1));
                assertEquals(CardStatus.describe(CardStatus.IO_ERROR), CardStatus.describe(read[0]));
                assertNotNull(card.lastFailure());
                assertTrue(card.lastFailure().contains("timed out"), card.lastFailure());
                assertEquals(Boolean.FALSE, links.poll(2, TimeUnit.SECONDS));
                Thread.sleep(1800);
                rig.assertPoisoned(BUFFER, LENGTH, "a timed-out read's buffer after the late reply");
                if (!server.process().isAlive() && server.process().exitValue() == 134)
                {
                    System.out.println("!!! nbdkit aborted (exit 134) after the timeout reset its connection: reconnect not checked");
                    return;
                }
                assertEquals(Boolean.TRUE, links.poll(10, TimeUnit.SECONDS), "reconnected");
            }
        }
    }
}
