package dev.braid.vhostuser;

import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Table-driven bad messages, one connection each: every case ends in a REPLY_ACK error (and the
 * connection still serves), an ignored message, or a closed connection, and after all of them no
 * fd and no mapping of the front end's memfds is left in the back end.
 */
class HostileFrontEndTest
{
    enum Expect
    {
        ERROR, CLOSE, IGNORED
    }

    @FunctionalInterface
    interface Action
    {
        void send(TestFrontEnd fe, List<Integer> fds) throws IOException;
    }

    record Case(String name, Expect expect, Action action)
    {
    }

    static Path dir;
    static VhostUserServer server;
    static final List<String> LOGS = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception
    {
        dir = Files.createTempDirectory("vhost-hostile");
        final SharedBlockStore store = new SharedBlockStore(2048);
        final VhostUserBackend backend = new VhostUserBackend(
            new BlkBackendDevice(List.of(SimDisk.builder("a", store).build()), 2, 256, 1), 16, HostileFrontEndTest::log);
        server = new VhostUserServer(dir.resolve("hostile.sock"), backend, HostileFrontEndTest::log);
    }

    private static synchronized void log(final String line)
    {
        LOGS.add(line);
        System.out.println(line);
    }

    @AfterAll
    static void stop() throws Exception
    {
        server.close();
        Files.deleteIfExists(dir);
    }

    static int fd(final List<Integer> fds)
    {
        final int fd = TestFrontEnd.eventfd();
        fds.add(fd);
        return fd;
    }

    static int memfd(final List<Integer> fds, final long size)
    {
        final int fd = Libc.memfd_create("braid-fe", Libc.MFD_CLOEXEC);
        Libc.ftruncate(fd, size);
        fds.add(fd);
        return fd;
    }

    static void acked(final TestFrontEnd fe, final int request, final byte[] payload, final int... fds) throws IOException
    {
        fe.send(request, FLAGS_VERSION | FLAGS_NEED_REPLY, payload, fds);
    }

    static void memTable(final TestFrontEnd fe) throws IOException
    {
        assertEquals(0, fe.acked(VhostUserRequest.SET_MEM_TABLE, TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd));
    }

    static byte[] header(final int request, final int flags, final int size)
    {
        final byte[] b = new byte[HEADER_LENGTH];
        final UnsafeBuffer u = new UnsafeBuffer(b);
        u.putInt(HEADER_REQUEST_OFFSET, request, LITTLE_ENDIAN);
        u.putInt(HEADER_FLAGS_OFFSET, flags, LITTLE_ENDIAN);
        u.putInt(HEADER_SIZE_OFFSET, size, LITTLE_ENDIAN);
        return b;
    }

    static final long MB = 1 << 20;

    static List<Case> cases()
    {
        final int v = FLAGS_VERSION;
        final int nr = FLAGS_VERSION | FLAGS_NEED_REPLY;
        return List.of(
            new Case("SET_FEATURES with 4 bytes", Expect.CLOSE, (fe, fds) -> fe.send(VhostUserRequest.SET_FEATURES, nr, new byte[4])),
            new Case("GET_FEATURES with 8 bytes", Expect.CLOSE, (fe, fds) -> fe.send(VhostUserRequest.GET_FEATURES, v, new byte[8])),
            new Case("version 2 flags", Expect.CLOSE, (fe, fds) -> fe.send(VhostUserRequest.GET_FEATURES, 0x2, new byte[0])),
            new Case("REPLY flag on a request", Expect.CLOSE, (fe, fds) -> fe.send(VhostUserRequest.GET_FEATURES, v | FLAGS_REPLY, new byte[0])),
            new Case("payload size 100000", Expect.CLOSE, (fe, fds) -> fe.sendRaw(header(VhostUserRequest.SET_CONFIG, v, 100_000))),
            new Case("hang-up mid-header", Expect.CLOSE, (fe, fds) ->
            {
                fe.sendRaw(new byte[6]);
                fe.shutdownOutput();
            }),
            new Case("hang-up mid-payload with an fd", Expect.CLOSE, (fe, fds) ->
            {
                final byte[] partial = new byte[HEADER_LENGTH + 10];
                System.arraycopy(header(VhostUserRequest.SET_MEM_TABLE, v, 40), 0, partial, 0, HEADER_LENGTH);
                fe.sendRaw(partial, fe.memFd);
                fe.shutdownOutput();
            }),
            new Case("9 fds on one message", Expect.CLOSE, (fe, fds) ->
            {
                final int[] nine = new int[9];
                for (int i = 0; i < 9; i++)
                {
                    nine[i] = fd(fds);
                }
                fe.send(VhostUserRequest.SET_VRING_KICK, nr, TestFrontEnd.u64(0), nine);
            }),
            new Case("SET_MEM_TABLE claims 9 regions", Expect.CLOSE, (fe, fds) ->
            {
                final byte[] p = TestFrontEnd.memTable(fe.wholeMemory());
                new UnsafeBuffer(p).putInt(0, 9, LITTLE_ENDIAN);
                fe.send(VhostUserRequest.SET_MEM_TABLE, nr, p, fe.memFd);
            }),
            new Case("SET_MEM_TABLE size off by 8", Expect.CLOSE, (fe, fds) ->
                fe.send(VhostUserRequest.SET_MEM_TABLE, nr, java.util.Arrays.copyOf(TestFrontEnd.memTable(fe.wholeMemory()), 48), fe.memFd)),
            new Case("SET_MEM_TABLE without its fd", Expect.CLOSE, (fe, fds) ->
                fe.send(VhostUserRequest.SET_MEM_TABLE, nr, TestFrontEnd.memTable(fe.wholeMemory()))),
            new Case("SET_MEM_TABLE with an extra fd", Expect.CLOSE, (fe, fds) ->
                fe.send(VhostUserRequest.SET_MEM_TABLE, nr, TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd, fd(fds))),
            new Case("SET_MEM_TABLE overlapping gpa", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_MEM_TABLE,
                TestFrontEnd.memTable(new long[] {0, MB, fe.memAddress, 0}, new long[] {MB / 2, MB, fe.memAddress + 2 * MB, 2 * MB}),
                fe.memFd, fe.memFd)),
            new Case("SET_MEM_TABLE overlapping user addresses", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_MEM_TABLE,
                TestFrontEnd.memTable(new long[] {0, MB, fe.memAddress, 0}, new long[] {8 * MB, MB, fe.memAddress + MB / 2, 0}),
                fe.memFd, fe.memFd)),
            new Case("SET_MEM_TABLE region beyond its file", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_MEM_TABLE,
                TestFrontEnd.memTable(new long[] {0, 2 * MB, fe.memAddress, 4 * MB}), memfd(fds, 4 * MB))),
            new Case("SET_MEM_TABLE size 0", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_MEM_TABLE,
                TestFrontEnd.memTable(new long[] {0, 0, fe.memAddress, 0}), fe.memFd)),
            new Case("SET_MEM_TABLE gpa wraps", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_MEM_TABLE,
                TestFrontEnd.memTable(new long[] {Long.MAX_VALUE - 4095, 2 * MB, fe.memAddress, 0}), fe.memFd)),
            new Case("SET_MEM_TABLE user address wraps", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_MEM_TABLE,
                TestFrontEnd.memTable(new long[] {0, 2 * MB, -MB, 0}), fe.memFd)),
            new Case("SET_MEM_TABLE user address above 2^63", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_MEM_TABLE,
                TestFrontEnd.memTable(new long[] {0, 2 * MB, Long.MIN_VALUE + MB, 0}), fe.memFd)),
            new Case("SET_MEM_TABLE user address 0", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_MEM_TABLE,
                TestFrontEnd.memTable(new long[] {0, 2 * MB, 0, 0}), fe.memFd)),
            new Case("ADD_MEM_REG overlapping", Expect.ERROR, (fe, fds) ->
            {
                memTable(fe);
                acked(fe, VhostUserRequest.ADD_MEM_REG, TestFrontEnd.singleRegion(new long[] {MB, MB, fe.memAddress + 64 * MB, 0}), fe.memFd);
            }),
            new Case("ADD_MEM_REG without fd", Expect.CLOSE, (fe, fds) ->
                acked(fe, VhostUserRequest.ADD_MEM_REG, TestFrontEnd.singleRegion(new long[] {0, MB, fe.memAddress, 0}))),
            new Case("REM_MEM_REG of no region", Expect.ERROR, (fe, fds) ->
            {
                memTable(fe);
                acked(fe, VhostUserRequest.REM_MEM_REG, TestFrontEnd.singleRegion(new long[] {0, MB, fe.memAddress, 0}));
            }),
            new Case("SET_VRING_NUM index 99", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_NUM, TestFrontEnd.state(99, 64))),
            new Case("SET_VRING_NUM index -1", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_NUM, TestFrontEnd.state(-1, 64))),
            new Case("SET_VRING_NUM size 3", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_NUM, TestFrontEnd.state(0, 3))),
            new Case("SET_VRING_NUM size 512 over max", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_NUM, TestFrontEnd.state(0, 512))),
            new Case("SET_VRING_NUM size 0", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_NUM, TestFrontEnd.state(0, 0))),
            new Case("SET_VRING_BASE 0x10000", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_BASE, TestFrontEnd.state(0, 0x10000))),
            new Case("SET_VRING_ADDR before SET_MEM_TABLE", Expect.ERROR, (fe, fds) ->
                acked(fe, VhostUserRequest.SET_VRING_ADDR, TestFrontEnd.addr(0, fe.user(0x1000), fe.user(0x3000), fe.user(0x2000)))),
            new Case("SET_VRING_ADDR outside memory", Expect.ERROR, (fe, fds) ->
            {
                memTable(fe);
                acked(fe, VhostUserRequest.SET_VRING_ADDR, TestFrontEnd.addr(0, fe.user(fe.memSize), fe.user(0x3000), fe.user(0x2000)));
            }),
            new Case("SET_VRING_ADDR used ring straddles the end", Expect.ERROR, (fe, fds) ->
            {
                memTable(fe);
                acked(fe, VhostUserRequest.SET_VRING_ADDR, TestFrontEnd.addr(0, fe.user(0x1000), fe.user(fe.memSize - 8), fe.user(0x2000)));
            }),
            new Case("SET_VRING_ADDR with the log flag", Expect.ERROR, (fe, fds) ->
            {
                memTable(fe);
                final byte[] p = TestFrontEnd.addr(0, fe.user(0x1000), fe.user(0x3000), fe.user(0x2000));
                new UnsafeBuffer(p).putInt(ADDR_FLAGS_OFFSET, ADDR_FLAG_LOG, LITTLE_ENDIAN);
                acked(fe, VhostUserRequest.SET_VRING_ADDR, p);
            }),
            new Case("SET_VRING_KICK without fd", Expect.CLOSE, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_KICK, TestFrontEnd.u64(0))),
            new Case("SET_VRING_KICK no-fd flag with an fd", Expect.CLOSE, (fe, fds) ->
                acked(fe, VhostUserRequest.SET_VRING_KICK, TestFrontEnd.u64(VRING_NOFD_MASK), fd(fds))),
            new Case("SET_VRING_CALL index 200", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_CALL, TestFrontEnd.u64(200), fd(fds))),
            new Case("SET_VRING_CALL high bits", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_CALL, TestFrontEnd.u64(1L << 40), fd(fds))),
            new Case("SET_VRING_ENABLE 2", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_VRING_ENABLE, TestFrontEnd.state(0, 2))),
            new Case("GET_VRING_BASE index 5", Expect.CLOSE, (fe, fds) -> fe.send(VhostUserRequest.GET_VRING_BASE, v, TestFrontEnd.state(5, 0))),
            new Case("SET_FEATURES not offered", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_FEATURES, TestFrontEnd.u64(1L << 63))),
            new Case("SET_PROTOCOL_FEATURES not offered", Expect.ERROR, (fe, fds) ->
                acked(fe, VhostUserRequest.SET_PROTOCOL_FEATURES, TestFrontEnd.u64(1L << PROTOCOL_F_INFLIGHT_SHMFD))),
            new Case("GET_CONFIG size 300", Expect.CLOSE, (fe, fds) -> fe.send(VhostUserRequest.GET_CONFIG, v, TestFrontEnd.config(0, 300))),
            new Case("GET_CONFIG size field disagrees", Expect.CLOSE, (fe, fds) ->
            {
                final byte[] p = TestFrontEnd.config(0, 60);
                new UnsafeBuffer(p).putInt(CONFIG_SIZE_OFFSET, 20, LITTLE_ENDIAN);
                fe.send(VhostUserRequest.GET_CONFIG, v, p);
            }),
            new Case("SET_CONFIG", Expect.ERROR, (fe, fds) -> acked(fe, VhostUserRequest.SET_CONFIG, TestFrontEnd.config(0, 4))),
            new Case("unknown request 99 with NEED_REPLY", Expect.ERROR, (fe, fds) -> acked(fe, 99, new byte[16], fd(fds))),
            new Case("unknown request 99", Expect.IGNORED, (fe, fds) -> fe.send(99, v, new byte[16], fd(fds))),
            new Case("SET_LOG_BASE (not offered) with NEED_REPLY", Expect.ERROR, (fe, fds) ->
                acked(fe, VhostUserRequest.SET_LOG_BASE, new byte[16], memfd(fds, MB))));
    }

    @Test
    void everyBadMessageGetsAnErrorOrAClosedConnectionAndLeaksNothing() throws Exception
    {
        // The first pass also warms up the fds JNA and junixsocket open once per process (one socket
        // appears during it and stays); the second pass must leave no fd and no mapping at all.
        final List<String> failures = new ArrayList<>();
        long served = runAll(failures, 0);
        final var fdsBefore = ProcessResources.fdTargets();
        served = runAll(failures, served);
        assertEquals(List.of(), failures);
        ProcessResources.assertNoNewFds(fdsBefore, "after " + cases().size() + " more hostile connections");
        assertEquals(2 * cases().size(), served);
    }

    private static long runAll(final List<String> failures, final long servedBefore) throws Exception
    {
        long served = servedBefore;
        for (final Case c : cases())
        {
            final List<Integer> fds = new ArrayList<>();
            try (TestFrontEnd fe = new TestFrontEnd(server.path(), 16 * MB))
            {
                fe.send(VhostUserRequest.SET_OWNER, FLAGS_VERSION, new byte[0]);
                c.action.send(fe, fds);
                final String outcome = outcome(fe, c);
                if (outcome != null)
                {
                    failures.add(c.name + ": " + outcome);
                }
            }
            catch (final IOException ex)
            {
                if (c.expect != Expect.CLOSE)
                {
                    failures.add(c.name + ": " + ex);
                }
            }
            finally
            {
                for (final int fd : fds)
                {
                    Libc.close(fd);
                }
            }
            ProcessResources.awaitServed(server, ++served);
            if (ProcessResources.mappings("braid-fe") != 0)
            {
                failures.add(c.name + ": a mapping is left");
            }
        }
        return served;
    }

    /** Null when the case ended as expected, else what happened. */
    private static String outcome(final TestFrontEnd fe, final Case c) throws IOException
    {
        switch (c.expect)
        {
            case CLOSE:
                return fe.isClosedByPeer() ? null : "connection still open";
            case ERROR:
            {
                final int request = lastRequest(c);
                final UnsafeBuffer reply = fe.reply(request);
                if (reply == null)
                {
                    return "closed instead of an error reply";
                }
                if (reply.getLong(HEADER_LENGTH, LITTLE_ENDIAN) == 0)
                {
                    return "acked as success";
                }
                return fe.getU64(VhostUserRequest.GET_QUEUE_NUM) == 2 ? null : "no longer serving";
            }
            default:
                return fe.getU64(VhostUserRequest.GET_QUEUE_NUM) == 2 ? null : "no longer serving";
        }
    }

    private static int lastRequest(final Case c)
    {
        for (final String name : new String[] {"SET_MEM_TABLE", "ADD_MEM_REG", "REM_MEM_REG", "SET_VRING_NUM", "SET_VRING_BASE",
            "SET_VRING_ADDR", "SET_VRING_CALL", "SET_VRING_ENABLE", "SET_FEATURES", "SET_PROTOCOL_FEATURES", "SET_CONFIG",
            "SET_LOG_BASE"})
        {
            if (c.name.startsWith(name + " ") || c.name.equals(name))
            {
                return requestCode(name);
            }
        }
        return 99;
    }

    private static int requestCode(final String name)
    {
        for (int r = 1; r < 64; r++)
        {
            if (VhostUserRequest.name(r).equals(name))
            {
                return r;
            }
        }
        throw new IllegalArgumentException(name);
    }
}
