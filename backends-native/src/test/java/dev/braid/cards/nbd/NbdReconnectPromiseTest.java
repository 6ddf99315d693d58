package dev.braid.cards.nbd;

import dev.braid.testkit.NbdServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A killed nbdkit comes back on the same socket as a narrower server, once for each promise the first
 * export made to the guest's device (writable, the maximum payload that set size_max, the minimum
 * block, write zeroes): the card refuses each reconnect with a one-line reason and stays down, since
 * serving on would fail or mis-serve guest requests the device already accepts. The original server
 * back on the socket: the card reconnects.
 */
class NbdReconnectPromiseTest
{
    @TempDir
    Path dir;

    @Test
    void aReconnectThatBreaksAPromiseIsRefusedUntilTheServerKeepsIt() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final Path image = servers.image("r.raw", 4 << 20);
            final Path socket = dir.resolve("r.sock");
            final String file = "file=" + image;
            NbdServers.Server server = servers.nbdkitAt(socket, List.of(), "file", file);
            try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri("nbd+unix:///?socket=" + socket).name("r")
                .queueCount(1).queueDepth(4).reconnectBackoff(20, 100, TimeUnit.MILLISECONDS)))
            {
                assertTrue(card.isLinkUp());
                final long maxPayload = card.maxTransferBytes();
                final String[][] narrower = {
                    {"export is read-only now", "-r", "file", file},
                    {"maximum payload shrank from " + maxPayload + " to 65536 bytes",
                        "--filter=blocksize-policy", "file", file, "blocksize-maximum=65536"},
                    {"minimum block grew from", "--filter=blocksize-policy", "file", file, "blocksize-minimum=4096",
                        "blocksize-preferred=4096"},
                    {"server no longer sets NBD_FLAG_SEND_WRITE_ZEROES", "--filter=nozero", "file", file},
                };
                for (final String[] variant : narrower)
                {
                    server.kill();
                    await(() -> !card.isLinkUp(), "the card saw its server die");
                    server = servers.nbdkitAt(socket, List.of(), java.util.Arrays.copyOfRange(variant, 1, variant.length));
                    final String why = variant[0];
                    await(() -> card.lastReconnectFailure() != null && card.lastReconnectFailure().contains(why),
                        "refused with '" + why + "': last failure " + card.lastReconnectFailure());
                    Thread.sleep(300); // several more attempts
                    assertFalse(card.isLinkUp(), "still down against " + String.join(" ", variant));
                    assertEquals(0, card.reconnectCount());
                }
                server.kill();
                await(() -> !card.isLinkUp(), "down");
                servers.nbdkitAt(socket, List.of(), "file", file);
                await(card::isLinkUp, "the original server back: the card reconnects");
                assertEquals(1, card.reconnectCount());
                assertNotNull(card.lastReconnectFailure());
            }
        }
    }

    private static void await(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        NbdTestRig.waitUntil(condition, what, 15);
    }
}
