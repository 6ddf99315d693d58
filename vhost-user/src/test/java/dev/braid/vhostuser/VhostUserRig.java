package dev.braid.vhostuser;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One Braid vhost-user back end and server for a test that attaches a front end to it (a real
 * QEMU, or {@link TestFrontEnd}): the back end's log kept for the checks and printed, the
 * process's fds taken once a throwaway session opened what JNA and junixsocket open once per
 * process, and the checks made after a front end left (nothing open, nothing mapped, a clean log).
 * Registered as a field ({@code @RegisterExtension final VhostUserRig rig = new VhostUserRig();}):
 * after each test it closes the server (after the test's own {@code @AfterEach}) and removes its
 * socket directory. Test thread, except {@link #log}, which the back end calls from its threads.
 */
final class VhostUserRig implements AfterEachCallback
{
    private final List<String> logs = new ArrayList<>();
    private Path dir;
    private Set<String> fdsBefore;
    private VhostUserBackend backend;
    private VhostUserServer server;

    /** A back-end log line: kept and printed. Any thread. */
    synchronized void log(final String line)
    {
        logs.add(line);
        System.out.println(line);
    }

    /** The log so far. */
    synchronized List<String> logs()
    {
        return List.copyOf(logs);
    }

    /** Serves {@code device} at {@code socket} in the directory (closing a server served before). */
    VhostUserServer serve(final BackendDevice device, final String socket) throws IOException
    {
        close();
        backend = new VhostUserBackend(device, 32, this::log);
        server = new VhostUserServer(dir().resolve(socket), backend, this::log);
        return server;
    }

    /**
     * A throwaway server and session first, fds passed too, over a device of {@code devices}: JNA
     * and junixsocket open a few fds once per process. Then the snapshot of the fds that
     * {@link #assertNoNewFds} compares with, and the real server over another device of
     * {@code devices}, made after the snapshot.
     *
     * @return the device served.
     */
    <D extends BackendDevice> D serveAfterWarmUp(final Supplier<D> devices, final String socket) throws Exception
    {
        try (VhostUserServer warmUp = new VhostUserServer(dir().resolve("warm.sock"),
            new VhostUserBackend(devices.get(), 32, this::log), this::log);
            TestFrontEnd fe = new TestFrontEnd(warmUp.path(), 1 << 20))
        {
            fe.send(VhostUserRequest.SET_OWNER, VhostUserDescriptor.FLAGS_VERSION, new byte[0]);
            fe.getU64(VhostUserRequest.GET_FEATURES);
            fe.send(VhostUserRequest.SET_MEM_TABLE, VhostUserDescriptor.FLAGS_VERSION,
                TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
        }
        final D device = devices.get();
        fdsBefore = ProcessResources.fdTargets();
        serve(device, socket);
        return device;
    }

    VhostUserServer server()
    {
        return server;
    }

    VhostUserBackend backend()
    {
        return backend;
    }

    /** The served socket, for QEMU's chardev. */
    Path socket()
    {
        return server.path();
    }

    /** Waits (bounded) until the server finished {@code n} connections. */
    void awaitServed(final long n) throws InterruptedException
    {
        ProcessResources.awaitServed(server, n);
    }

    /** No log line says a start was refused or did not happen, nor contains any of {@code alsoBad}. */
    void assertLogClean(final String... alsoBad)
    {
        final List<String> now = logs();
        final List<String> bad = new ArrayList<>(List.of("refused", "not started"));
        bad.addAll(List.of(alsoBad));
        assertFalse(now.stream().anyMatch(l -> bad.stream().anyMatch(l::contains)), "backend log clean of " + bad + ": " + now);
    }

    /** QEMU's guest memory (its memfd) is mapped nowhere in this process. */
    static void assertGuestMemoryUnmapped() throws IOException
    {
        assertEquals(0, ProcessResources.mappings("memory-backend-memfd"), "guest memory unmapped");
    }

    /**
     * No fd opened since {@link #serveAfterWarmUp} took its snapshot is open now: every fd the back
     * end took from QEMU (memfds, kick/call eventfds) and the kick waiter's epoll and wake fds are
     * gone. Sockets are left out: a closed server leaves none (ServerFdTest), but the first real
     * QEMU session in a JVM leaves one connected unix socket without a peer (inode next to the
     * accepted connection's; open, see DESIGN).
     */
    void assertNoNewFds(final String when)
    {
        assertNotNull(fdsBefore, "no fd snapshot: serve with serveAfterWarmUp");
        final Set<String> now = ProcessResources.fdTargets();
        now.removeAll(fdsBefore);
        now.removeIf(fd -> fd.contains("-> socket:"));
        assertTrue(now.isEmpty(), "fds left " + when + ": " + now);
    }

    /**
     * After the one QEMU exited: the back end saw the connection close, and with the server closed
     * no fd, no guest-memory mapping and no refused start are left.
     */
    void assertNothingLeftAfterQemu() throws Exception
    {
        awaitServed(1);
        close();
        assertNoNewFds("after QEMU exited and the server closed");
        assertGuestMemoryUnmapped();
        assertLogClean();
    }

    /** Closes the server, if one is served. */
    void close() throws IOException
    {
        if (server != null)
        {
            server.close();
            server = null;
        }
    }

    public void afterEach(final ExtensionContext context) throws IOException
    {
        close();
        if (dir != null)
        {
            try (var left = Files.list(dir))
            {
                for (final Path file : left.toList())
                {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(dir);
            dir = null;
        }
    }

    /** Where the sockets go: a short path (a unix socket's is at most 107 bytes), made at the first serve. */
    private Path dir() throws IOException
    {
        if (dir == null)
        {
            dir = Files.createTempDirectory("braid-vu");
        }
        return dir;
    }
}
