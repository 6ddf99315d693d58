package dev.braid.vhostuser;

import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.virtio.blk.VirtioBlk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.*;

/** A QEMU-7.2-like front end sets up vhost-user-blk and runs real virtio-blk requests through the ring. */
class BlkEndToEndTest
{
    static final int QUEUE_SIZE = 64;
    static final long RING_GPA = 0x10000;
    static final long HEADER_GPA = 0x40000;
    static final long DATA_GPA = 0x80000;
    static final long STATUS_GPA = 0x7F000;

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();
    BlkBackendDevice blk;

    @BeforeEach
    void start() throws Exception
    {
        final SharedBlockStore store = new SharedBlockStore(8192);
        final List<BlockCard> cards = List.of(
            SimDisk.builder("a", store).latency(LatencyModel.uniform(1_000, 5_000)).build(),
            SimDisk.builder("b", store).latency(LatencyModel.uniform(1_000, 5_000)).build());
        blk = new BlkBackendDevice(cards, 2, 256, 1);
        rig.serve(blk, "blk.sock");
    }

    /** What QEMU 7.2's vhost_dev_init and vhost_dev_start send for vhost-user-blk, num-queues=1. */
    static void qemuSetup(final TestFrontEnd fe, final RingLayout layout, final int kick, final int call,
        final boolean protocolFeatures) throws Exception
    {
        fe.send(VhostUserRequest.SET_OWNER, FLAGS_VERSION, new byte[0]);
        final long features = fe.getU64(VhostUserRequest.GET_FEATURES);
        assertTrue((features & (1L << F_PROTOCOL_FEATURES)) != 0, "bit 30 offered");
        if (protocolFeatures)
        {
            final long protocol = fe.getU64(VhostUserRequest.GET_PROTOCOL_FEATURES);
            assertEquals(PROTOCOL_FEATURES_OFFERED, protocol);
            fe.setU64(VhostUserRequest.SET_PROTOCOL_FEATURES, protocol);
            assertEquals(2, fe.getU64(VhostUserRequest.GET_QUEUE_NUM));
            assertEquals(32, fe.getU64(VhostUserRequest.GET_MAX_MEM_SLOTS));
            fe.send(VhostUserRequest.GET_CONFIG, FLAGS_VERSION, TestFrontEnd.config(0, 60));
            final UnsafeBuffer config = fe.reply(VhostUserRequest.GET_CONFIG);
            assertEquals(HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET + 60, config.capacity());
            assertEquals(8192, config.getLong(HEADER_LENGTH + CONFIG_PAYLOAD_OFFSET, LITTLE_ENDIAN), "capacity");
        }
        final long wanted = features & ~(1L << VirtioFeatures.EVENT_IDX) |
            (protocolFeatures ? 1L << F_PROTOCOL_FEATURES : 0);
        fe.setU64(VhostUserRequest.SET_FEATURES, protocolFeatures ? wanted : wanted & ~(1L << F_PROTOCOL_FEATURES));
        final long memAck = protocolFeatures ?
            fe.acked(VhostUserRequest.SET_MEM_TABLE, TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd) : 0;
        if (!protocolFeatures)
        {
            fe.send(VhostUserRequest.SET_MEM_TABLE, FLAGS_VERSION, TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd);
        }
        assertEquals(0, memAck, "SET_MEM_TABLE acked");
        ringSetup(fe, 0, layout, kick, call);
        if (protocolFeatures)
        {
            fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(0, 1));
        }
    }

    static void ringSetup(final TestFrontEnd fe, final int q, final RingLayout layout, final int kick, final int call)
        throws Exception
    {
        fe.send(VhostUserRequest.SET_VRING_NUM, FLAGS_VERSION, TestFrontEnd.state(q, layout.queueSize()));
        fe.send(VhostUserRequest.SET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(q, 0));
        fe.send(VhostUserRequest.SET_VRING_ADDR, FLAGS_VERSION,
            TestFrontEnd.addr(q, fe.user(layout.descGpa()), fe.user(layout.usedGpa()), fe.user(layout.availGpa())));
        fe.setU64(VhostUserRequest.SET_VRING_KICK, q, kick);
        fe.setU64(VhostUserRequest.SET_VRING_CALL, q, call);
    }

    @Test
    void twoQueuesServeTogetherAndAStopWaitsForRequestsInFlight() throws Exception
    {
        final SharedBlockStore store = new SharedBlockStore(8192);
        // Slow cards: a request is still in flight when GET_VRING_BASE arrives.
        final List<BlockCard> cards = List.of(SimDisk.builder("slow", store).latency(LatencyModel.uniform(200_000_000, 200_000_000)).build());
        rig.serve(new BlkBackendDevice(cards, 2, 256, 1), "blk2.sock");
        final int[] kicks = {TestFrontEnd.eventfd(), TestFrontEnd.eventfd()};
        final int[] calls = {TestFrontEnd.eventfd(), TestFrontEnd.eventfd()};
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            final RingLayout[] layouts = {RingLayout.split(RING_GPA, QUEUE_SIZE, 4), RingLayout.split(RING_GPA + 0x8000, QUEUE_SIZE, 4)};
            fe.send(VhostUserRequest.SET_OWNER, FLAGS_VERSION, new byte[0]);
            final long features = fe.getU64(VhostUserRequest.GET_FEATURES);
            fe.setU64(VhostUserRequest.SET_PROTOCOL_FEATURES, fe.getU64(VhostUserRequest.GET_PROTOCOL_FEATURES));
            fe.setU64(VhostUserRequest.SET_FEATURES, features & ~(1L << VirtioFeatures.EVENT_IDX));
            assertEquals(0, fe.acked(VhostUserRequest.SET_MEM_TABLE, TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd));
            for (int q = 0; q < 2; q++)
            {
                ringSetup(fe, q, layouts[q], kicks[q], calls[q]);
            }
            for (int q = 0; q < 2; q++)
            {
                fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(q, 1));
            }
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            for (int q = 0; q < 2; q++)
            {
                // The call after a start: written once per ring, before any request.
                final int call = calls[q];
                Waits.assertWithin(Duration.ofSeconds(5), () -> TestFrontEnd.drain(call) > 0,
                    "queue " + q + " called once after the start");
            }
            final SplitDriverQueue q1 = new SplitDriverQueue(fe.memory, layouts[1], false);
            fe.memory.putBytes(DATA_GPA, new byte[4096], 0, 4096);
            assertEquals(VirtioBlk.VIRTIO_BLK_S_OK, request(fe, q1, kicks[1], VirtioBlk.VIRTIO_BLK_T_IN, 0, 4097), "queue 1 serves");

            // One request in flight on queue 0, then QEMU's stop: the reply waits for its completion.
            final SplitDriverQueue q0 = new SplitDriverQueue(fe.memory, layouts[0], false);
            fe.memory.putInt(HEADER_GPA, VirtioBlk.VIRTIO_BLK_T_IN);
            fe.memory.putLong(HEADER_GPA + 8, 0);
            assertTrue(q0.addChain(new BufferChain(3).readable(HEADER_GPA, 16).writable(DATA_GPA, 4096).writable(STATUS_GPA, 1), false) >= 0);
            q0.publish();
            if (q0.needsKick())
            {
                kick(kicks[0]); // as a driver does: an idle agent thread sleeps on the kick fd
            }
            Thread.sleep(50); // popped by the front queue, held by the slow card
            fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(0, 0));
            fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(1, 0));
            fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, 0));
            final UnsafeBuffer base = fe.reply(VhostUserRequest.GET_VRING_BASE);
            assertEquals(1, base.getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN), "queue 0 consumed one chain");
            final int[] used = {0};
            q0.reap((id, len) -> used[0]++);
            assertEquals(1, used[0], "the request in flight completed before the reply");
            assertEquals(VirtioBlk.VIRTIO_BLK_S_OK, fe.memory.getByte(STATUS_GPA));
            fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(1, 0));
            assertEquals(1, fe.reply(VhostUserRequest.GET_VRING_BASE).getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN));
        }
        finally
        {
            for (int q = 0; q < 2; q++)
            {
                Libc.close(kicks[q]);
                Libc.close(calls[q]);
            }
        }
    }

    @Test
    void writesAndReadsBackThroughTheRingWithAndWithoutBit30ThreeTimes() throws Exception
    {
        runSession(true, 1); // warms up what JNA and junixsocket open once per process
        final var fdsBefore = ProcessResources.fdTargets();
        runSession(false, 2);
        runSession(true, 3);
        ProcessResources.assertNoNewFds(fdsBefore, "after two more sessions");
        assertEquals(0, ProcessResources.mappings("braid-fe"), "mappings after two sessions");
    }

    private void runSession(final boolean protocolFeatures, final int session) throws Exception
    {
        int kick = TestFrontEnd.eventfd();
        final int call = TestFrontEnd.eventfd();
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            final RingLayout layout = RingLayout.split(RING_GPA, QUEUE_SIZE, 4);
            final SplitDriverQueue driver = new SplitDriverQueue(fe.memory, layout, false);
            qemuSetup(fe, layout, kick, call, protocolFeatures);
            // GET_QUEUE_NUM is a round trip: everything before it was handled, the device settles when idle.
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertEquals(2, ProcessResources.mappings("braid-fe"), "front end's and back end's mapping");

            final byte[] data = new byte[4096];
            for (int i = 0; i < data.length; i++)
            {
                data[i] = (byte)(i * 7 + session);
            }
            fe.memory.putBytes(DATA_GPA, data, 0, data.length);
            // Idle with nothing in flight: the agent thread blocks on the kick fd, the kick wakes it.
            final KickWaiter waiter = blk.kickWaiter();
            assertNotNull(waiter, "one agent thread: the kick waiter is its idle strategy");
            Waits.assertWithin(Duration.ofSeconds(10), () -> waiter.sleeps() > 0, "the idle agent thread went to sleep");
            Thread.sleep(20);
            assertEquals(VirtioBlk.VIRTIO_BLK_S_OK, request(fe, driver, kick, VirtioBlk.VIRTIO_BLK_T_OUT, 16, 1));
            assertTrue(waiter.kickWakes() > 0, "a kick woke it");
            fe.memory.putBytes(DATA_GPA, new byte[4096], 0, 4096);
            assertEquals(VirtioBlk.VIRTIO_BLK_S_OK, request(fe, driver, kick, VirtioBlk.VIRTIO_BLK_T_IN, 16, 4097));
            final byte[] back = new byte[4096];
            fe.memory.getBytes(DATA_GPA, back, 0, back.length);
            assertArrayEquals(data, back, "data read back");
            assertTrue(TestFrontEnd.drain(call) > 0, "the call eventfd was written");

            // QEMU 7.2's stop: SET_VRING_ENABLE(0) then GET_VRING_BASE.
            if (protocolFeatures)
            {
                fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(0, 0));
            }
            fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, 0));
            final UnsafeBuffer base = fe.reply(VhostUserRequest.GET_VRING_BASE);
            assertEquals(0, base.getInt(HEADER_LENGTH, LITTLE_ENDIAN));
            assertEquals(2, base.getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN), "two requests consumed");
            assertFalse(rig.backend().isDeviceRunning());

            // A restart on the same connection (vhost stop/start without a device reset): the ring
            // resumes at the base GET_VRING_BASE returned, the used index where guest memory has it.
            final int kick2 = TestFrontEnd.eventfd();
            fe.send(VhostUserRequest.SET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, 2));
            fe.setU64(VhostUserRequest.SET_VRING_KICK, 0, kick2);
            Libc.close(kick);
            kick = kick2;
            if (protocolFeatures)
            {
                fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(0, 1));
            }
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning());
            fe.memory.putBytes(DATA_GPA, new byte[4096], 0, 4096);
            assertEquals(VirtioBlk.VIRTIO_BLK_S_OK, request(fe, driver, kick, VirtioBlk.VIRTIO_BLK_T_IN, 16, 4097));
            fe.memory.getBytes(DATA_GPA, back, 0, back.length);
            assertArrayEquals(data, back, "data read back after the restart");
            assertEquals(3, driver.usedIndex(), "used index continued");
        }
        finally
        {
            Libc.close(kick);
            Libc.close(call);
        }
        rig.awaitServed(session);
    }

    /** GET_ID answers the serial the back end was given (NUL-padded to 20 bytes), or the default; a bad one is refused at once. */
    @Test
    void getIdAnswersTheSerialTheBackEndWasGiven() throws Exception
    {
        for (final String serial : new String[] {"803-1a2b3c", null})
        {
            final SharedBlockStore store = new SharedBlockStore(8192);
            final BlkBackendDevice device = new BlkBackendDevice(List.of(SimDisk.builder("a", store).build()), 1, 256, 1,
                dev.braid.ha.Aggregation.activeActive(dev.braid.mapper.SelectorKind.QUEUE_AFFINE), serial);
            rig.serve(device, "id.sock");
            final int kick = TestFrontEnd.eventfd();
            final int call = TestFrontEnd.eventfd();
            try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
            {
                final RingLayout layout = RingLayout.split(RING_GPA, QUEUE_SIZE, 4);
                final SplitDriverQueue driver = new SplitDriverQueue(fe.memory, layout, false);
                qemuSetup(fe, layout, kick, call, false);
                fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
                fe.memory.putBytes(DATA_GPA, new byte[64], 0, 64);
                fe.memory.putInt(HEADER_GPA, VirtioBlk.VIRTIO_BLK_T_GET_ID);
                fe.memory.putInt(HEADER_GPA + 4, 0);
                fe.memory.putLong(HEADER_GPA + 8, 0);
                final int head = driver.addChain(new BufferChain(3).readable(HEADER_GPA, 16)
                    .writable(DATA_GPA, VirtioBlk.VIRTIO_BLK_ID_BYTES).writable(STATUS_GPA, 1), false);
                driver.publish();
                kick(kick);
                final int[] got = {-1};
                Waits.assertWithin(Duration.ofSeconds(10), () ->
                {
                    driver.reap((id, len) -> got[0] = id);
                    return got[0] == head;
                }, "GET_ID completed");
                assertEquals(VirtioBlk.VIRTIO_BLK_S_OK, fe.memory.getByte(STATUS_GPA));
                final byte[] id = new byte[VirtioBlk.VIRTIO_BLK_ID_BYTES];
                fe.memory.getBytes(DATA_GPA, id, 0, id.length);
                final byte[] expected = java.util.Arrays.copyOf(
                    (serial == null ? "braid-blk" : serial).getBytes(java.nio.charset.StandardCharsets.US_ASCII), id.length);
                assertArrayEquals(expected, id, "GET_ID: the serial, NUL-padded");
            }
            finally
            {
                Libc.close(kick);
                Libc.close(call);
            }
        }
        final IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new BlkBackendDevice(
            List.of(SimDisk.builder("a", new SharedBlockStore(8192)).build()), 1, 256, 1,
            dev.braid.ha.Aggregation.activeActive(dev.braid.mapper.SelectorKind.QUEUE_AFFINE), "x".repeat(21)));
        assertTrue(bad.getMessage().contains("the serial must be at most 20 ASCII characters"), bad.getMessage());
    }

    static void kick(final int fd)
    {
        final UnsafeBuffer one = new UnsafeBuffer(org.agrona.BufferUtil.allocateDirectAligned(8, 8));
        one.putLong(0, 1L);
        Libc.write(fd, one.addressOffset(), 8);
    }

    /** Posts one blk request (header, 4 KiB data, status), kicks, waits for its used element. */
    private static int request(final TestFrontEnd fe, final SplitDriverQueue driver, final int kick, final int type,
        final long sector, final int expectedLen) throws Exception
    {
        fe.memory.putInt(HEADER_GPA, type);
        fe.memory.putInt(HEADER_GPA + 4, 0);
        fe.memory.putLong(HEADER_GPA + 8, sector);
        fe.memory.putByte(STATUS_GPA, (byte)0x7F);
        final BufferChain chain = new BufferChain(3).readable(HEADER_GPA, 16)
            .add(DATA_GPA, 4096, type == VirtioBlk.VIRTIO_BLK_T_IN).writable(STATUS_GPA, 1);
        final int head = driver.addChain(chain, false);
        assertTrue(head >= 0);
        driver.publish();
        kick(kick);
        final int[] got = {-1, -1};
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (got[0] < 0 && System.nanoTime() < deadline)
        {
            driver.reap((id, len) ->
            {
                got[0] = id;
                got[1] = len;
            });
            Thread.onSpinWait();
        }
        assertEquals(head, got[0], "used element for the request");
        assertEquals(expectedLen, got[1], "used length");
        return fe.memory.getByte(STATUS_GPA);
    }
}
