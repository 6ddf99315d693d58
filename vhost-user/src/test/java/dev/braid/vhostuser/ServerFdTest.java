package dev.braid.vhostuser;

import dev.braid.sim.SimDisk;
import dev.braid.sim.SharedBlockStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A closed {@link VhostUserServer} leaves no fd behind (sockets included): listening ones with
 * and without a connection served, and a connecting one. Counted from /proc/self/fd, with no GC
 * in between (junixsocket's cleaner would hide a leaked socket object).
 */
class ServerFdTest
{
    @TempDir
    Path dir;

    private VhostUserBackend backend()
    {
        return new VhostUserBackend(new BlkBackendDevice(List.of(SimDisk.builder("a", new SharedBlockStore(2048)).build()),
            1, 256, 1), 16, line -> { });
    }

    private void openAndClose(final int connections) throws Exception
    {
        final VhostUserServer server = new VhostUserServer(dir.resolve("fd.sock"), backend(), System.out::println);
        for (int i = 0; i < connections; i++)
        {
            try (TestFrontEnd fe = new TestFrontEnd(server.path(), 1 << 20))
            {
                fe.getU64(VhostUserRequest.GET_FEATURES);
            }
            ProcessResources.awaitServed(server, i + 1);
        }
        server.close();
        assertFalse(Files.exists(server.path()), "socket file removed");
    }

    @Test
    void aClosedListeningServerLeavesNoSocketWithOrWithoutConnections() throws Exception
    {
        openAndClose(1); // JNA and junixsocket open what they keep for the process once
        final Set<String> before = ProcessResources.fdTargets();
        for (int round = 0; round < 5; round++)
        {
            openAndClose(round % 3);
        }
        ProcessResources.assertNoNewFds(before, "after five servers opened and closed");
    }

    /** The server closes while a front end is connected and its thread is blocked reading. */
    @Test
    void aServerClosedUnderAConnectedFrontEndLeavesNoSocket() throws Exception
    {
        openAndClose(1);
        final Set<String> before = ProcessResources.fdTargets();
        for (int round = 0; round < 3; round++)
        {
            final VhostUserServer server = new VhostUserServer(dir.resolve("busy.sock"), backend(), System.out::println);
            try (TestFrontEnd fe = new TestFrontEnd(server.path(), 1 << 20))
            {
                fe.getU64(VhostUserRequest.GET_FEATURES);
                fe.send(VhostUserRequest.SET_MEM_TABLE, VhostUserDescriptor.FLAGS_VERSION,
                    TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd);
                fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
                server.close();
                assertEquals(1, server.connectionsServed(), "the connection ended with the server");
            }
        }
        ProcessResources.assertNoNewFds(before, "after three servers closed under a connected front end");
        assertEquals(0, ProcessResources.mappings("braid-fe") , "the front ends unmapped theirs, the back end too");
    }

    /** The front end hangs up and the server closes at once, while the back end still tears down. */
    @Test
    void aServerClosedAsItsFrontEndHangsUpLeavesNoSocket() throws Exception
    {
        openAndClose(1);
        final Set<String> before = ProcessResources.fdTargets();
        for (int round = 0; round < 10; round++)
        {
            final VhostUserServer server = new VhostUserServer(dir.resolve("race.sock"), backend(), line -> { });
            try (TestFrontEnd fe = new TestFrontEnd(server.path(), 1 << 20))
            {
                fe.send(VhostUserRequest.SET_MEM_TABLE, VhostUserDescriptor.FLAGS_VERSION,
                    TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd);
                fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            }
            if (round % 2 == 1)
            {
                Thread.sleep(round);
            }
            server.close();
        }
        ProcessResources.assertNoNewFds(before, "after ten servers closed as their front ends hung up");
    }

    @Test
    void aClosedConnectingServerLeavesNoSocket() throws Exception
    {
        final Set<String> before = ProcessResources.fdTargets();
        for (int round = 0; round < 3; round++)
        {
            // Nobody listens: it retries until closed.
            final VhostUserServer client = VhostUserServer.connect(dir.resolve("nobody.sock"), backend(), line -> { },
                60_000_000_000L);
            Thread.sleep(120);
            client.close();
        }
        ProcessResources.assertNoNewFds(before, "after three connecting servers closed");
    }
}
