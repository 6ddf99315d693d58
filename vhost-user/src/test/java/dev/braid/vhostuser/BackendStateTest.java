package dev.braid.vhostuser;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.*;

/** The message handling and ring state machine without a socket, against a recording device. */
class BackendStateTest
{
    static final long MEM = 1 << 20;
    static final long UVA = 0x7f00_0000_0000L;

    final List<String> logs = new ArrayList<>();
    final FakeDevice device = new FakeDevice();
    final VhostUserBackend backend = new VhostUserBackend(device, 16, logs::add);
    final UnsafeBuffer reply = new UnsafeBuffer(new byte[HEADER_LENGTH + MAX_PAYLOAD]);
    int memFd;

    @BeforeEach
    void memory()
    {
        memFd = Libc.memfd_create("braid-state", Libc.MFD_CLOEXEC);
        assertEquals(0, Libc.ftruncate(memFd, 64 * MEM));
    }

    @AfterEach
    void release() throws Exception
    {
        backend.close();
        Libc.close(memFd);
        assertEquals(0, ProcessResources.mappings("braid-state"), "mappings after close");
    }

    int send(final int request, final int flags, final byte[] payload, final int... fds)
    {
        final UnsafeBuffer m = new UnsafeBuffer(new byte[HEADER_LENGTH + payload.length]);
        m.putInt(HEADER_REQUEST_OFFSET, request, LITTLE_ENDIAN);
        m.putInt(HEADER_FLAGS_OFFSET, flags, LITTLE_ENDIAN);
        m.putInt(HEADER_SIZE_OFFSET, payload.length, LITTLE_ENDIAN);
        m.putBytes(HEADER_LENGTH, payload);
        return backend.onMessage(m, HEADER_LENGTH + payload.length, fds.clone(), fds.length, reply);
    }

    long ack(final int request, final byte[] payload, final int... fds)
    {
        assertEquals(HEADER_LENGTH + 8, send(request, FLAGS_VERSION | FLAGS_NEED_REPLY, payload, fds));
        return reply.getLong(HEADER_LENGTH, LITTLE_ENDIAN);
    }

    long get(final int request)
    {
        assertEquals(HEADER_LENGTH + 8, send(request, FLAGS_VERSION, new byte[0]));
        assertEquals(FLAGS_VERSION | FLAGS_REPLY, reply.getInt(HEADER_FLAGS_OFFSET, LITTLE_ENDIAN));
        assertEquals(request, reply.getInt(HEADER_REQUEST_OFFSET, LITTLE_ENDIAN));
        return reply.getLong(HEADER_LENGTH, LITTLE_ENDIAN);
    }

    void memTable()
    {
        assertEquals(0, ack(VhostUserRequest.SET_MEM_TABLE, TestFrontEnd.memTable(new long[] {0, 4 * MEM, UVA, 0}), Libc.dup(memFd)));
    }

    /** NUM, BASE, ADDR, KICK (with an eventfd) for ring q, rings at 64 KiB * (q + 1). */
    void ring(final int q, final int base)
    {
        assertEquals(0, ack(VhostUserRequest.SET_VRING_NUM, TestFrontEnd.state(q, 64)));
        assertEquals(0, ack(VhostUserRequest.SET_VRING_BASE, TestFrontEnd.state(q, base)));
        final long at = UVA + 0x10000L * (q + 1);
        assertEquals(0, ack(VhostUserRequest.SET_VRING_ADDR, TestFrontEnd.addr(q, at, at + 0x2000, at + 0x1000)));
        assertEquals(0, ack(VhostUserRequest.SET_VRING_KICK, TestFrontEnd.u64(q), TestFrontEnd.eventfd()));
        assertEquals(0, ack(VhostUserRequest.SET_VRING_CALL, TestFrontEnd.u64(q), TestFrontEnd.eventfd()));
    }

    void features(final boolean bit30)
    {
        assertEquals(0, ack(VhostUserRequest.SET_FEATURES, TestFrontEnd.u64(FakeDevice.FEATURES | (bit30 ? 1L << F_PROTOCOL_FEATURES : 0))));
    }

    @Test
    void offersItsFeaturesBit30AndOnlyTheImplementedProtocolFeatures()
    {
        assertEquals(FakeDevice.FEATURES | 1L << 30, get(VhostUserRequest.GET_FEATURES));
        assertEquals((1L << 0) | (1L << 3) | (1L << 9) | (1L << 13) | (1L << 15), get(VhostUserRequest.GET_PROTOCOL_FEATURES));
        assertEquals(4, get(VhostUserRequest.GET_QUEUE_NUM));
        assertEquals(16, get(VhostUserRequest.GET_MAX_MEM_SLOTS));
        assertEquals(0, ack(VhostUserRequest.SET_PROTOCOL_FEATURES, TestFrontEnd.u64(PROTOCOL_FEATURES_OFFERED)));
        assertEquals(0, ack(VhostUserRequest.SET_OWNER, new byte[0]));
    }

    @Test
    void withoutBit30ARingIsEnabledWhenItStarts()
    {
        features(false);
        memTable();
        ring(0, 7);
        assertEquals(2, backend.ringState(0));
        backend.settle();
        assertEquals(1, device.starts);
        assertEquals(1, device.runningCount);
        assertEquals(7, device.startedBases[0]);
        assertEquals(0x10000, device.startedDesc[0], "desc translated from the front end's address to gpa");
        assertEquals(FakeDevice.FEATURES, device.startedFeatures, "bit 30 is not passed to the device");
    }

    @Test
    void withBit30ARingStartsDisabledUntilSetVringEnable()
    {
        features(true);
        memTable();
        ring(0, 0);
        assertEquals(1, backend.ringState(0), "started but disabled");
        backend.settle();
        assertEquals(0, device.starts);
        assertEquals(0, ack(VhostUserRequest.SET_VRING_ENABLE, TestFrontEnd.state(0, 1)));
        assertEquals(2, backend.ringState(0));
        backend.settle();
        assertEquals(1, device.runningCount);

        // SET_FEATURES never disables a ring.
        features(true);
        assertEquals(2, backend.ringState(0));

        // QEMU 7.2's stop: SET_VRING_ENABLE(0), then GET_VRING_BASE returns where the device stopped.
        assertEquals(0, ack(VhostUserRequest.SET_VRING_ENABLE, TestFrontEnd.state(0, 0)));
        assertEquals(HEADER_LENGTH + STATE_LENGTH, send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, 0)));
        assertEquals(5, reply.getInt(HEADER_LENGTH + STATE_NUM_OFFSET, LITTLE_ENDIAN));
        assertFalse(device.isRunning());
        assertEquals(0, backend.ringState(0), "stopped");
    }

    @Test
    void getVringBaseStopsARunningRingAndARestartResumesFromIt()
    {
        features(false);
        memTable();
        ring(0, 100);
        backend.settle();
        assertEquals(HEADER_LENGTH + STATE_LENGTH, send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, 0)));
        assertEquals(105, reply.getInt(HEADER_LENGTH + STATE_NUM_OFFSET, LITTLE_ENDIAN));
        assertEquals(0, backend.ringState(0));
        backend.settle();
        assertFalse(device.isRunning());
        assertEquals(0, ack(VhostUserRequest.SET_VRING_KICK, TestFrontEnd.u64(0), TestFrontEnd.eventfd()));
        backend.settle();
        assertEquals(105, device.startedBases[0]);
    }

    @Test
    void theDeviceRunsTheLeadingStartedAndEnabledRings()
    {
        features(false);
        memTable();
        ring(1, 0);
        backend.settle();
        assertFalse(device.isRunning(), "ring 1 alone is not a device");
        ring(0, 0);
        backend.settle();
        assertEquals(2, device.runningCount);
        ring(3, 0);
        backend.settle();
        assertEquals(2, device.runningCount, "ring 3 after a gap is not served");
    }

    @Test
    void aNewMemoryTableStopsTheDeviceAndUnmapsTheOldRegions() throws Exception
    {
        features(false);
        memTable();
        ring(0, 0);
        backend.settle();
        assertEquals(1, ProcessResources.mappings("braid-state"));
        memTable();
        assertFalse(device.isRunning(), "stopped before the old memory went away");
        assertEquals(1, ProcessResources.mappings("braid-state"));
        backend.settle();
        assertEquals(2, device.starts);
    }

    @Test
    void resetDeviceStopsEveryRing()
    {
        features(false);
        memTable();
        ring(0, 0);
        backend.settle();
        assertEquals(0, ack(VhostUserRequest.RESET_DEVICE, new byte[0]));
        assertFalse(device.isRunning());
        assertEquals(0, backend.ringState(0));
    }

    @Test
    void configSpaceAtOffsetZeroAndAtCloudHypervisorsOffset()
    {
        for (final int base : new int[] {0, CONFIG_PCI_OFFSET})
        {
            final int len = send(VhostUserRequest.GET_CONFIG, FLAGS_VERSION, TestFrontEnd.config(base + 4, 8));
            assertEquals(HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET + 8, len);
            assertEquals(base + 4, reply.getInt(HEADER_LENGTH + CONFIG_OFFSET_OFFSET, LITTLE_ENDIAN));
            for (int i = 0; i < 8; i++)
            {
                assertEquals(5 + i, reply.getByte(HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET + i), "byte " + i);
            }
        }
        assertEquals(HEADER_LENGTH, send(VhostUserRequest.GET_CONFIG, FLAGS_VERSION, TestFrontEnd.config(0x250, 8)),
            "out of range: an empty reply, which QEMU takes as failure");
    }

    @Test
    void configureMemSlotsAddsMoreThanEightRegionsAndRemovesThem() throws Exception
    {
        for (int i = 0; i < 16; i++)
        {
            assertEquals(0, ack(VhostUserRequest.ADD_MEM_REG,
                TestFrontEnd.singleRegion(new long[] {i * MEM, MEM, UVA + i * MEM, i * MEM}), Libc.dup(memFd)), "region " + i);
        }
        assertEquals(16, ProcessResources.mappings("braid-state"));
        assertEquals(16, backend.memoryTable().count());
        assertNotEquals(0, ack(VhostUserRequest.ADD_MEM_REG,
            TestFrontEnd.singleRegion(new long[] {16 * MEM, MEM, UVA + 16 * MEM, 0}), Libc.dup(memFd)), "17th slot");
        assertEquals(0x5 * MEM + 8, backend.memoryTable().userToGuestPhysical(UVA + 5 * MEM + 8, 16));
        assertEquals(0, ack(VhostUserRequest.REM_MEM_REG, TestFrontEnd.singleRegion(new long[] {5 * MEM, MEM, UVA + 5 * MEM, 0})));
        assertEquals(-1, backend.memoryTable().userToGuestPhysical(UVA + 5 * MEM + 8, 16));
        assertEquals(15, ProcessResources.mappings("braid-state"));
    }

    @Test
    void aRegionOverTwoGibibytesIsMappedAndTranslated() throws Exception
    {
        final long size = 3L << 30;
        final long offset = 1 << 20;
        final int big = Libc.memfd_create("braid-big", Libc.MFD_CLOEXEC);
        try
        {
            assertEquals(0, Libc.ftruncate(big, offset + size), "a sparse 3 GiB memfd");
            final long gpa = 1L << 32;
            assertEquals(0, ack(VhostUserRequest.SET_MEM_TABLE, TestFrontEnd.memTable(new long[] {gpa, size, UVA, offset}), Libc.dup(big)));
            final var memory = backend.memoryTable().memory();
            assertEquals(size, memory.totalLength());
            memory.putLong(gpa + size - 8, 0x1122334455667788L);
            memory.putLong(gpa + (1L << 30) - 4, 0x0102030405060708L); // across a 1 GiB chunk boundary
            assertEquals(gpa + size - 16, backend.memoryTable().userToGuestPhysical(UVA + size - 16, 16));
            assertEquals(-1, backend.memoryTable().userToGuestPhysical(UVA + size - 8, 16));

            // The bytes landed at mmap_offset + (gpa - base) of the file: read them through a mapping of our own.
            final long mine = Libc.mmap(0, offset + size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, big, 0);
            final UnsafeBuffer last = new UnsafeBuffer(mine + offset + size - 8, 8);
            assertEquals(0x1122334455667788L, last.getLong(0, LITTLE_ENDIAN));
            final UnsafeBuffer cross = new UnsafeBuffer(mine + offset + (1L << 30) - 4, 8);
            assertEquals(0x0102030405060708L, cross.getLong(0, LITTLE_ENDIAN));
            Libc.munmap(mine, offset + size);
            backend.disconnect();
            assertEquals(0, ProcessResources.mappings("braid-big"));
        }
        finally
        {
            Libc.close(big);
        }
    }

    @Test
    void cloudHypervisorsNeedReplyOnAGetGetsTheOrdinaryReplyOnly()
    {
        assertEquals(HEADER_LENGTH + 8, send(VhostUserRequest.GET_FEATURES, FLAGS_VERSION | FLAGS_NEED_REPLY, new byte[0]));
        assertEquals(FakeDevice.FEATURES | 1L << 30, reply.getLong(HEADER_LENGTH, LITTLE_ENDIAN));
        assertEquals(0, ack(VhostUserRequest.SET_OWNER, new byte[0]));
    }

    @Test
    void setSlaveReqFdIsAcceptedAndItsFdClosed()
    {
        final int fd = TestFrontEnd.eventfd();
        final int before = ProcessResources.openFds();
        assertEquals(0, ack(VhostUserRequest.SET_SLAVE_REQ_FD, new byte[0], Libc.dup(fd)));
        assertEquals(before, ProcessResources.openFds());
        Libc.close(fd);
    }

    @Test
    void callsGoToTheCurrentCallFdOnceAfterAStartOnceOnArrivalAndOnEveryInterrupt()
    {
        features(false);
        memTable();
        ring(0, 0);
        final int call = TestFrontEnd.eventfd();
        assertEquals(0, ack(VhostUserRequest.SET_VRING_CALL, TestFrontEnd.u64(0), Libc.dup(call)));
        backend.settle();
        assertEquals(1, TestFrontEnd.drain(call), "one call after the start");
        device.calls.accept(0);
        device.calls.accept(0);
        assertEquals(2, TestFrontEnd.drain(call));

        // A new call fd while running: the old one stays open (an agent may be writing it) until the device stops.
        final int fdsWithOld = ProcessResources.openFds();
        final int second = TestFrontEnd.eventfd();
        assertEquals(0, ack(VhostUserRequest.SET_VRING_CALL, TestFrontEnd.u64(0), Libc.dup(second)));
        // As libvhost-user: a new call fd on a running ring is written once, in case one was lost.
        assertEquals(1, TestFrontEnd.drain(second), "the new call fd written once on arrival");
        device.calls.accept(0);
        assertEquals(0, TestFrontEnd.drain(call));
        assertEquals(1, TestFrontEnd.drain(second));
        assertEquals(fdsWithOld + 2, ProcessResources.openFds(), "old fd retired, not closed, while running");
        assertEquals(0, ack(VhostUserRequest.RESET_DEVICE, new byte[0]));
        assertEquals(fdsWithOld - 1, ProcessResources.openFds(), "retired and current call fds closed with the stop");
        Libc.close(call);
        Libc.close(second);
    }
}
