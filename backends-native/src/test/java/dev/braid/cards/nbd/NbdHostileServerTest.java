package dev.braid.cards.nbd;

import dev.braid.cards.nbd.HostileNbdServer.Misbehaviour;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A fake server that lies: each lie fails the card with a one-line reason, the request in flight
 * completes IO_ERROR, guest memory outside the request (and, where no data was due, inside it)
 * keeps its poison, and the card reconnects to the (now honest) server.
 */
class NbdHostileServerTest
{
    private static final long BUFFER = 0x10000;
    private static final int LENGTH = 8192;
    private static final long SECTOR = 8;

    @ParameterizedTest(name = "{0} structured={1}")
    @CsvSource({
        "WRONG_REPLY_MAGIC,true,bad reply magic,false",
        "WRONG_REPLY_MAGIC,false,bad reply magic,false",
        "UNKNOWN_COOKIE,true,unknown cookie,false",
        "UNKNOWN_COOKIE,false,unknown cookie,false",
        "PREDICTED_NEXT_COOKIE,true,unknown cookie,false",
        "PREDICTED_NEXT_COOKIE,false,unknown cookie,false",
        "DUPLICATE_REPLY,true,unknown cookie,true",
        "DUPLICATE_REPLY,false,unknown cookie,true",
        "OVERSIZE_CHUNK,true,outside the request,false",
        "LONGER_SIMPLE_DATA,false,bad reply magic,true",
        "SHORT_READ,true,short read,false",
        "HANG_UP_MID_REPLY,true,mid-reply,false",
        "HANG_UP_MID_REPLY,false,mid-reply,false",
    })
    void aLyingServerFailsTheCardWithoutCorruptingGuestMemory(
        final Misbehaviour misbehaviour, final boolean structured, final String reason, final boolean readCompletes)
        throws Exception
    {
        final NbdTestRig rig = new NbdTestRig(1 << 20);
        final LinkedBlockingQueue<Boolean> links = new LinkedBlockingQueue<>();
        try (HostileNbdServer server = new HostileNbdServer(misbehaviour, structured);
            NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("h")
                .reconnectBackoff(20, 200, TimeUnit.MILLISECONDS)))
        {
            card.setEventListener(recorder(links));
            assertEquals(structured, card.structuredReplies());
            final long token = rig.token();
            assertTrue(card.submit(0, rig.dataIo(BlockIo.READ, SECTOR, BUFFER, LENGTH, 2), token, rig.sink));
            final int[] result = rig.await(card, 0, token, 10_000);

            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (null == card.lastFailure() && System.nanoTime() < deadline)
            {
                card.poll(0);
                Thread.sleep(1);
            }
            final String failure = card.lastFailure();
            assertNotNull(failure, "the card did not fail");
            assertTrue(failure.contains(reason), "reason '" + failure + "' lacks '" + reason + "'");
            assertTrue(failure.indexOf('\n') < 0, "one line: " + failure);

            rig.assertPoisoned(BUFFER - 4096, 4096, "before the read buffer");
            rig.assertPoisoned(BUFFER + LENGTH, 8192, "after the read buffer");
            if (readCompletes)
            {
                rig.expectOk(result, LENGTH);
                assertDiskBytes(rig, server);
            }
            else
            {
                assertEquals(CardStatus.describe(CardStatus.IO_ERROR), CardStatus.describe(result[0]), "status");
                assertEquals(0, result[1]);
                if (misbehaviour != Misbehaviour.HANG_UP_MID_REPLY && misbehaviour != Misbehaviour.SHORT_READ)
                {
                    rig.assertPoisoned(BUFFER, LENGTH, "the read buffer (no data was due)");
                }
            }
            assertEquals(Boolean.FALSE, links.poll(5, TimeUnit.SECONDS), "link down event");

            // Rejoin: the card reconnects (the server behaves on later connections) and serves again.
            assertEquals(Boolean.TRUE, links.poll(10, TimeUnit.SECONDS), "link up event after reconnect");
            assertTrue(card.isLinkUp());
            assertTrue(card.reconnectCount() >= 1);
            rig.poison(BUFFER, LENGTH);
            rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.READ, SECTOR, BUFFER, LENGTH, 3)), LENGTH);
            assertDiskBytes(rig, server);
        }
    }

    /**
     * Seeded byte flips, truncations and trailing garbage on a valid read reply: whatever the card
     * makes of it, the request completes exactly once and nothing outside its buffer is written.
     */
    @Test
    void mutatedRepliesNeverWriteOutsideTheRequest() throws Exception
    {
        final long seed = NbdTestRig.seed("NbdHostileServerTest.mutated");
        final java.util.Random random = new java.util.Random(seed);
        int failed = 0;
        for (int round = 0; round < 24; round++)
        {
            final long mutation = random.nextLong();
            final boolean structured = random.nextBoolean();
            final NbdTestRig rig = new NbdTestRig(1 << 20);
            try (HostileNbdServer server = new HostileNbdServer(Misbehaviour.MUTATED, structured).mutationSeed(mutation);
                NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("m")
                    .requestTimeout(1, TimeUnit.SECONDS)))
            {
                final long token = rig.token();
                assertTrue(card.submit(0, rig.dataIo(BlockIo.READ, SECTOR, BUFFER, LENGTH, 3), token, rig.sink));
                final int[] result = rig.await(card, 0, token, 10_000);
                Thread.sleep(20);
                card.poll(0);
                rig.assertPoisoned(BUFFER - 4096, 4096, "before the buffer, mutation " + mutation);
                rig.assertPoisoned(BUFFER + LENGTH, 8192, "after the buffer, mutation " + mutation);
                if (result[0] != CardStatus.OK)
                {
                    assertEquals(0, result[1], "a failed read reports no bytes");
                    failed++;
                }
                final String failure = card.lastFailure();
                assertTrue(null == failure || failure.indexOf('\n') < 0, failure);
            }
        }
        System.out.println("NbdHostileServerTest.mutated: " + failed + " of 24 mutated replies failed the read");
        assertTrue(failed > 0, "no mutation was caught: the test cannot fail");
    }

    @Test
    void aServerWithBadMagicIsRefusedAtOpenWithOneLine() throws Exception
    {
        try (HostileNbdServer server = new HostileNbdServer(Misbehaviour.BAD_HELLO_MAGIC, true))
        {
            final IOException ex = assertThrows(IOException.class, () -> NbdBlockCard.open(new NbdCardContext().uri(server.uri())));
            assertTrue(ex.getMessage().contains("bad server magic"), ex.getMessage());
            assertTrue(ex.getMessage().indexOf('\n') < 0, ex.getMessage());
        }
    }

    @Test
    void aServerThatIsNotThereIsRefusedAtOpenWithOneLine() throws Exception
    {
        final int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0))
        {
            port = s.getLocalPort();
        }
        final IOException ex = assertThrows(IOException.class,
            () -> NbdBlockCard.open(new NbdCardContext().uri("nbd://127.0.0.1:" + port + "/x")));
        assertTrue(ex.getMessage().contains("connect to"), ex.getMessage());
    }

    private static void assertDiskBytes(final NbdTestRig rig, final HostileNbdServer server)
    {
        final byte[] got = rig.read(BUFFER, LENGTH);
        for (int i = 0; i < LENGTH; i++)
        {
            if (got[i] != server.diskByte((int)(SECTOR * 512) + i))
            {
                fail("read byte " + i + " differs from the server's disk");
            }
        }
    }

    static CardEventListener recorder(final LinkedBlockingQueue<Boolean> links)
    {
        return new CardEventListener()
        {
            public void onLinkChange(final Card card, final boolean up)
            {
                links.add(up);
            }

            public void onCardError(final Card card, final int code)
            {
            }
        };
    }
}
