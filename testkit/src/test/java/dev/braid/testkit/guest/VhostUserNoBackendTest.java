package dev.braid.testkit.guest;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vhost-user arguments reach QEMU, and the harness's failure paths hold, before any backend
 * exists: no socket makes QEMU exit at once with a message naming it; a socket that accepts and
 * never answers hangs QEMU (it realizes the device before the guest runs), and the timeout kills it
 * leaving no process behind.
 */
class VhostUserNoBackendTest
{
    @TempDir
    Path dir;

    private long qemuBefore;

    @BeforeEach
    void countQemu()
    {
        qemuBefore = GuestRun.liveQemuProcesses();
    }

    @AfterEach
    void noQemuLeft()
    {
        assertEquals(qemuBefore, GuestRun.liveQemuProcesses(), "QEMU processes left behind");
    }

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

    @Test
    void aSilentBackendHangsQemuUntilTheTimeoutKillsIt() throws Exception
    {
        final Path socket = dir.resolve("silent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            server.bind(UnixDomainSocketAddress.of(socket));
            final Thread acceptor = new Thread(() ->
            {
                try (SocketChannel ignored = server.accept())
                {
                    Thread.sleep(60_000);
                }
                catch (final Exception expected)
                {
                    // closed by the test's end
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
        }
    }
}
