package dev.braid.testkit.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vhost-user arguments reach QEMU, and the harness's failure paths hold, before any backend
 * exists: no socket makes QEMU exit at once with a message naming it; a socket that accepts and
 * never answers hangs QEMU (it realizes the device before the guest runs), and the timeout kills it
 * leaving no process behind; in server mode QEMU listens and waits. In both modes QEMU's first
 * message on the socket is GET_FEATURES.
 */
@ExtendWith(NoQemuLeftBehind.class)
class VhostUserNoBackendTest
{
    private static final int VHOST_USER_GET_FEATURES = 1;

    @TempDir
    Path dir;

    @Test
    void noSocketMakesQemuExitNamingIt() throws Exception
    {
        final Path socket = dir.resolve("absent.sock");
        final GuestResult result = GuestRun.builder()
            .name("vhost-user-blk-no-socket")
            .vhostUserBlk(socket, 2)
            .script("exit 0")
            .timeout(Duration.ofSeconds(30))
            .run();

        assertFalse(result.succeeded());
        assertFalse(result.timedOut(), "QEMU should fail fast, not hang");
        assertEquals(-1, result.doneRc());
        assertNotEquals(0, result.qemuExitCode());
        final String log = Files.readString(result.consoleLog(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(log.contains(socket.toString()), "QEMU's error names the socket:\n" + result.tail(10));
        assertTrue(result.describe().contains("before BRAID-DONE"), result.describe());
    }

    /** Reads one vhost-user message header (request, flags, size; little-endian u32s). */
    static int[] readHeader(final SocketChannel channel) throws IOException
    {
        final ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        while (header.hasRemaining())
        {
            if (channel.read(header) < 0)
            {
                throw new IOException("QEMU closed the vhost-user socket after " + header.position() + " bytes");
            }
        }
        return new int[] {header.getInt(0), header.getInt(4), header.getInt(8)};
    }

    private static void assertGetFeatures(final int[] header)
    {
        assertEquals(VHOST_USER_GET_FEATURES, header[0], "QEMU's first vhost-user request");
        assertEquals(1, header[1] & 0x3, "protocol version 1 in the flags");
        assertEquals(0, header[2], "GET_FEATURES carries no payload");
    }

    @Test
    void aSilentBackendHangsQemuUntilTheTimeoutKillsIt() throws Exception
    {
        final Path socket = dir.resolve("silent.sock");
        final AtomicReference<int[]> first = new AtomicReference<>();
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            server.bind(UnixDomainSocketAddress.of(socket));
            final Thread acceptor = new Thread(() ->
            {
                try (SocketChannel channel = server.accept())
                {
                    first.set(readHeader(channel));
                    Thread.sleep(60_000);
                }
                catch (final Exception expected)
                {
                    // QEMU killed, or the test's end
                }
            }, "silent-vhost-user-backend");
            acceptor.setDaemon(true);
            acceptor.start();

            final long start = System.nanoTime();
            final GuestResult result = GuestRun.builder()
                .name("vhost-user-net-silent-backend")
                .vhostUserNet(socket, 2)
                .script("exit 0")
                .timeout(Duration.ofSeconds(4))
                .run();
            final double seconds = (System.nanoTime() - start) / 1e9;

            assertTrue(result.timedOut(), result.describe());
            assertEquals(-1, result.doneRc());
            assertEquals(-1, result.bootedAfterNanos(), "the guest never ran");
            assertTrue(seconds < 15, "the timeout held: " + seconds + " s");
            acceptor.interrupt();
            acceptor.join(5_000);
        }
        assertNotNull(first.get(), "QEMU connected and sent a request");
        assertGetFeatures(first.get());
    }

    @Test
    void inServerModeQemuListensAndWaitsForTheBackend() throws Exception
    {
        final Path socket = dir.resolve("qemu-listens.sock");
        try (RunningGuest guest = GuestRun.builder()
            .name("vhost-user-blk-server-mode")
            .vhostUserBlk(socket, 1)
            .vhostUserServer(true)
            .script("exit 0")
            .timeout(Duration.ofSeconds(30))
            .start())
        {
            final long deadline = System.nanoTime() + 20_000_000_000L;
            while (!Files.exists(socket) && System.nanoTime() - deadline < 0)
            {
                Thread.sleep(10);
            }
            assertTrue(Files.exists(socket), "QEMU created its listening socket " + socket);
            assertEquals(null, guest.awaitResult("anything", Duration.ofMillis(300)), "QEMU waits: the guest does not run");
            try (SocketChannel backend = SocketChannel.open(UnixDomainSocketAddress.of(socket)))
            {
                assertGetFeatures(readHeader(backend));
            }
            // The "backend" hung up before answering: QEMU 7.2's vhost-user-blk does not boot the guest
            // but listens again, for a backend that restarts.
            final long relisten = System.nanoTime() + 15_000_000_000L;
            while (countOf(guest.consoleLog(), "Reconnecting after error") == 0 && System.nanoTime() - relisten < 0)
            {
                Thread.sleep(20);
            }
            assertEquals(1, countOf(guest.consoleLog(), "Reconnecting after error"), "QEMU listens again");
            assertEquals(null, guest.awaitResult("anything", Duration.ofMillis(300)), "and still does not boot");
        }
        // close() killed the waiting QEMU: NoQemuLeftBehind counts it gone.
    }

    private static int countOf(final Path log, final String text) throws IOException
    {
        final String content = Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1);
        int count = 0;
        for (int at = content.indexOf(text); at >= 0; at = content.indexOf(text, at + 1))
        {
            count++;
        }
        return count;
    }
}
