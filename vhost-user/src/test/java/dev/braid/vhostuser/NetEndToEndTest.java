package dev.braid.vhostuser;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.QueueStats;
import dev.braid.ha.Aggregation;
import dev.braid.ha.FailoverLog;
import dev.braid.ha.HealthState;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.SimNic;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.net.VirtioNet;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A QEMU-7.2-like front end drives vhost-user net: what QEMU's vhost-user netdev negotiates (no
 * CTRL_VQ, GET_QUEUE_NUM in pairs, no CONFIG protocol feature, ADD_MEM_REG once per pair), frames
 * through the rx/tx rings to the sim segment's peer, the gratuitous ARPs from the survivor after
 * a failover, and bad input on the net paths.
 */
class NetEndToEndTest
{
    static final int QUEUE_SIZE = 64;
    static final long RX_RING = 0x10000;
    static final long TX_RING = 0x18000;
    static final long RX_RING_1 = 0x20000;
    static final long TX_RING_1 = 0x28000;
    static final long RX_BUFFERS = 0x100000;
    static final long TX_BUFFERS = 0x200000;
    static final int SLOT = 2048;
    static final int HDR = 12;
    static final int SECOND_IP = FrameBuilder.ipv4(10, 99, 0, 7);

    @RegisterExtension
    final VhostUserRig rig = new VhostUserRig();
    TwoSimNics nics;
    NetBackendDevice device;
    final int[] kicks = {TestFrontEnd.eventfd(), TestFrontEnd.eventfd(), TestFrontEnd.eventfd(), TestFrontEnd.eventfd()};
    final int[] calls = {TestFrontEnd.eventfd(), TestFrontEnd.eventfd(), TestFrontEnd.eventfd(), TestFrontEnd.eventfd()};
    final byte[] frame = new byte[1600];

    private void serve(final int pairs, final int cards) throws Exception
    {
        nics = TwoSimNics.on(1_000);
        final List<NetCard> list = cards == 1 ? List.of(nics.a()) : nics.cards();
        device = new NetBackendDevice(list, pairs, 256, 1, Aggregation.activeActive(SelectorKind.FLOW_HASH), GuestNetTest.GUEST_MAC);
        rig.serve(device, "net.sock");
    }

    @AfterEach
    void stop() throws Exception
    {
        rig.close();
        for (int i = 0; i < kicks.length; i++)
        {
            Libc.close(kicks[i]);
            Libc.close(calls[i]);
        }
    }

    /** What QEMU 7.2 negotiates for -netdev vhost-user,queues=pairs: bit 30, protocol features, queue count, memory per pair. */
    private long negotiate(final TestFrontEnd fe, final int pairs) throws Exception
    {
        fe.send(VhostUserRequest.SET_OWNER, FLAGS_VERSION, new byte[0]);
        final long features = fe.getU64(VhostUserRequest.GET_FEATURES);
        final long expected = VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.INDIRECT_DESC,
            VirtioFeatures.EVENT_IDX, VirtioNet.VIRTIO_NET_F_MRG_RXBUF, F_PROTOCOL_FEATURES) |
            (pairs > 1 ? 1L << VirtioNet.VIRTIO_NET_F_MQ : 0);
        assertEquals(Long.toHexString(expected), Long.toHexString(features),
            "offered: the ring features, MRG_RXBUF, MQ with pairs; never CTRL_VQ, GUEST_ANNOUNCE or offloads");
        final long protocol = fe.getU64(VhostUserRequest.GET_PROTOCOL_FEATURES);
        assertEquals(0, protocol & (1L << PROTOCOL_F_CONFIG), "no CONFIG for net: QEMU keeps the config space");
        assertNotEquals(0, protocol & (1L << PROTOCOL_F_MQ), "MQ: QEMU asks GET_QUEUE_NUM");
        fe.setU64(VhostUserRequest.SET_PROTOCOL_FEATURES, protocol);
        assertEquals(pairs, fe.getU64(VhostUserRequest.GET_QUEUE_NUM), "GET_QUEUE_NUM answers queue pairs");
        // The guest acked MRG_RXBUF and the ring features; QEMU passes them (and bit 30) on, once per pair.
        for (int p = 0; p < pairs; p++)
        {
            fe.setU64(VhostUserRequest.SET_FEATURES, features);
        }
        assertEquals(0, fe.acked(VhostUserRequest.SET_MEM_TABLE, TestFrontEnd.memTable(fe.wholeMemory()), fe.memFd));
        return features;
    }

    private static void ring(final TestFrontEnd fe, final int q, final RingLayout layout, final int kick, final int call)
        throws Exception
    {
        BlkEndToEndTest.ringSetup(fe, q, layout, kick, call);
        fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(q, 1));
    }

    /** Rings rx0 and tx0 set up and enabled, then a round trip (the pair runs): their driver sides, rx first. */
    private SplitDriverQueue[] startPairZero(final TestFrontEnd fe) throws Exception
    {
        final RingLayout rxLayout = RingLayout.split(RX_RING, QUEUE_SIZE, 4);
        final RingLayout txLayout = RingLayout.split(TX_RING, QUEUE_SIZE, 4);
        final SplitDriverQueue rx = new SplitDriverQueue(fe.memory, rxLayout, true);
        final SplitDriverQueue tx = new SplitDriverQueue(fe.memory, txLayout, true);
        ring(fe, 0, rxLayout, kicks[0], calls[0]);
        ring(fe, 1, txLayout, kicks[1], calls[1]);
        fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
        return new SplitDriverQueue[] {rx, tx};
    }

    private int postRx(final SplitDriverQueue rx, final int count)
    {
        int posted = 0;
        for (int i = 0; i < count; i++)
        {
            posted += rx.addChain(new BufferChain(1).writable(RX_BUFFERS + (long)i * SLOT, SLOT), false) >= 0 ? 1 : 0;
        }
        rx.publish();
        return posted;
    }

    private int sendTx(final TestFrontEnd fe, final SplitDriverQueue tx, final int slot, final int length)
    {
        final long gpa = TX_BUFFERS + (long)slot * SLOT;
        fe.memory.putBytes(gpa, new byte[HDR], 0, HDR);
        fe.memory.putBytes(gpa + HDR, frame, 0, length);
        final int head = tx.addChain(new BufferChain(1).readable(gpa, HDR + length), false);
        tx.publish();
        return head;
    }

    /** Reaps until {@code n} used elements came, returning their lengths by head. */
    private static int[] await(final SplitDriverQueue queue, final int n) throws Exception
    {
        final int[] lengths = new int[QUEUE_SIZE];
        java.util.Arrays.fill(lengths, -1);
        final int[] got = {0};
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (got[0] < n && System.nanoTime() < deadline)
        {
            queue.reap((id, len) ->
            {
                lengths[id] = len;
                got[0]++;
            });
            Thread.sleep(1);
        }
        assertEquals(n, got[0], "used elements");
        return lengths;
    }

    @Test
    void qemuNegotiationFramesToThePeerAndGratuitousArpsFromTheSurvivorForEveryLearnedAddress() throws Exception
    {
        serve(1, 2);
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            negotiate(fe, 1);
            final RingLayout rxLayout = RingLayout.split(RX_RING, QUEUE_SIZE, 4);
            final RingLayout txLayout = RingLayout.split(TX_RING, QUEUE_SIZE, 4);
            final SplitDriverQueue rx = new SplitDriverQueue(fe.memory, rxLayout, true);
            final SplitDriverQueue tx = new SplitDriverQueue(fe.memory, txLayout, true);
            ring(fe, 0, rxLayout, kicks[0], calls[0]);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM); // a round trip: ring 0 alone does not start a device
            assertFalse(rig.backend().isDeviceRunning(), "an rx ring without its tx ring runs nothing");
            ring(fe, 1, txLayout, kicks[1], calls[1]);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning(), "the pair runs");
            assertEquals(16, postRx(rx, 16));

            // The guest's ARP for the peer (from its first address), then a ping from a second address.
            final long guest = GuestNetTest.GUEST_MAC;
            int length = FrameBuilder.arpRequest(frame, guest, GuestNetTest.GUEST_IP, GuestNetTest.PEER_IP);
            sendTx(fe, tx, 0, length);
            length = FrameBuilder.icmpEchoRequest(frame, guest, GuestNetTest.PEER_MAC, SECOND_IP, GuestNetTest.PEER_IP,
                7, 1, new byte[32], 0, 32);
            sendTx(fe, tx, 1, length);
            final int[] txUsed = await(tx, 2);
            final int[] rxUsed = await(rx, 2);
            int replies = 0;
            for (int id = 0; id < QUEUE_SIZE; id++)
            {
                if (rxUsed[id] > 0)
                {
                    replies++;
                    assertEquals(1, fe.memory.getShort(RX_BUFFERS + (long)id * SLOT + 10) & 0xFFFF, "num_buffers 1");
                }
            }
            assertEquals(2, replies, "the ARP reply and the echo reply");
            assertEquals(1, nics.peer().arpReplies());
            assertEquals(1, nics.peer().echoReplies());
            assertTrue(txUsed[0] >= 0 && txUsed[1] >= 0);

            // The card carrying the guest's flow loses its link; no guest traffic follows, so only
            // Braid's announce can move the segment's entry for the guest's MAC to the survivor.
            final SimNic carrying = nics.segment().portOf(guest) == nics.a().port() ? nics.a() : nics.b();
            final SimNic survivor = carrying == nics.a() ? nics.b() : nics.a();
            final long before = nics.peer().announcements();
            carrying.inject(CardFault.LINK_DOWN, 0);
            // The announcer counts its frames after sending them: wait for the count too.
            Waits.until(() -> nics.peer().announcements() >= before + 2 && device.net().announcer().addressesAnnounced() >= 2,
                Duration.ofSeconds(5));
            assertEquals(before + 2, nics.peer().announcements(), "one gratuitous ARP per learned address");
            assertEquals(survivor.port(), nics.segment().portOf(guest), "sent from the surviving card");
            assertEquals(guest, nics.peer().lastAnnouncedMac());
            assertEquals(2, device.net().announcer().addressesAnnounced());
            assertTrue(device.net().state().knowsGuestIpv4(GuestNetTest.GUEST_IP), "learned from the ARP's sender");
            assertTrue(device.net().state().knowsGuestIpv4(SECOND_IP), "learned from the IPv4 source");

            // What braid serve's status line reads: the running device's counters and failover log.
            final AggregatedDevice<?> running = device.runningDevice();
            assertSame(device.net().device(), running, "the running device is the net device's aggregate");
            Waits.until(() -> downs(running, list(nics.a(), nics.b()).indexOf(carrying)) == 1, Duration.ofSeconds(5));
            assertEquals(1, downs(running, list(nics.a(), nics.b()).indexOf(carrying)), "the failover log has the card going down");
            assertTrue(running.frontQueue(1).stats().get(QueueStats.COMPLETED) >= 2, "tx completions counted");
        }
        rig.awaitServed(1);
        assertNull(device.runningDevice(), "no running device once the front end left");
        assertEquals(1, device.starts());
        assertFalse(rig.logs().stream().anyMatch(l -> l.contains("refused")), "no refusal: " + rig.logs());
    }

    private static List<SimNic> list(final SimNic... nics)
    {
        return List.of(nics);
    }

    /** How many times the failover log shows {@code card} going DOWN. */
    static int downs(final AggregatedDevice<?> device, final int card)
    {
        final FailoverLog log = device.failoverLog();
        final FailoverLog.Entry entry = new FailoverLog.Entry();
        int downs = 0;
        for (long seq = Math.max(0, log.appended() - log.capacity()); seq < log.appended(); seq++)
        {
            if (log.read(seq, entry) && entry.card() == card && entry.to() == HealthState.DOWN && entry.from() != HealthState.DOWN)
            {
                downs++;
            }
        }
        return downs;
    }

    @Test
    void aShortTxHeaderAndAShortRxBufferGetUsedLengthZeroAndTheDeviceKeepsServing() throws Exception
    {
        serve(1, 1);
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            negotiate(fe, 1);
            final SplitDriverQueue[] pair = startPairZero(fe);
            final SplitDriverQueue rx = pair[0];
            final SplitDriverQueue tx = pair[1];
            assertTrue(rig.backend().isDeviceRunning());

            // An rx buffer too short for header + Ethernet header: handed back empty, never written past.
            fe.memory.putBytes(RX_BUFFERS + 3 * SLOT, new byte[64], 0, 64);
            final int shortRx = rx.addChain(new BufferChain(1).writable(RX_BUFFERS + 3 * SLOT, HDR + 13), false);
            rx.publish();
            assertEquals(0, await(rx, 1)[shortRx], "short rx buffer: used length 0");
            assertEquals(0, fe.memory.getByte(RX_BUFFERS + 3 * SLOT), "and nothing written into it");

            // A tx chain of 8 bytes: shorter than the 12-byte header. Dropped, completed, nothing sent.
            final long sentBefore = nics.a().txFrames();
            final int shortTx = tx.addChain(new BufferChain(1).readable(TX_BUFFERS, 8), false);
            tx.publish();
            assertEquals(0, await(tx, 1)[shortTx], "short tx header: used length 0");
            assertEquals(sentBefore, nics.a().txFrames(), "nothing reached the wire");

            // A header and 10 bytes: no whole Ethernet header. Same answer.
            final int runt = sendTx(fe, tx, 2, 10);
            assertEquals(0, await(tx, 1)[runt], "runt frame: used length 0");
            assertEquals(sentBefore, nics.a().txFrames());

            // The device still serves: a ping and its reply.
            postRx(rx, 4);
            final int length = FrameBuilder.icmpEchoRequest(frame, GuestNetTest.GUEST_MAC, GuestNetTest.PEER_MAC,
                GuestNetTest.GUEST_IP, GuestNetTest.PEER_IP, 9, 1, new byte[16], 0, 16);
            sendTx(fe, tx, 3, length);
            await(tx, 1);
            final int[] rxUsed = await(rx, 1);
            int replyLength = -1;
            for (final int len : rxUsed)
            {
                replyLength = Math.max(replyLength, len);
            }
            assertEquals(HDR + length, replyLength, "the echo reply, header included");
            assertEquals(1, nics.peer().echoReplies());
        }
        rig.awaitServed(1);
    }

    @Test
    void ringsOutsideMemoryAreRefusedAndThePairDoesNotRun() throws Exception
    {
        serve(2, 1);
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            negotiate(fe, 2);
            ring(fe, 0, RingLayout.split(RX_RING, QUEUE_SIZE, 4), kicks[0], calls[0]);
            ring(fe, 1, RingLayout.split(TX_RING, QUEUE_SIZE, 4), kicks[1], calls[1]);
            fe.send(VhostUserRequest.SET_VRING_NUM, FLAGS_VERSION, TestFrontEnd.state(2, QUEUE_SIZE));
            // rx1's used ring 4 KiB past the end of guest memory.
            assertNotEquals(0, fe.acked(VhostUserRequest.SET_VRING_ADDR, TestFrontEnd.addr(2, fe.user(RX_RING_1),
                fe.user((4 << 20) + 4096), fe.user(RX_RING_1 + 0x1000))), "REPLY_ACK error");
            // A ring index beyond the 2 pairs (ring 4 would be QEMU's control queue, which it keeps).
            assertNotEquals(0, fe.acked(VhostUserRequest.SET_VRING_NUM, TestFrontEnd.state(4, QUEUE_SIZE)), "no ring 4");
            fe.setU64(VhostUserRequest.SET_VRING_KICK, 2, kicks[2]);
            fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(2, 1));
            ring(fe, 3, RingLayout.split(TX_RING_1, QUEUE_SIZE, 4), kicks[3], calls[3]);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            // The back end refuses to run a device with an enabled ring it cannot place (one line, below).
            assertFalse(rig.backend().isDeviceRunning(), "a pair whose ring was refused does not run");
            assertTrue(rig.logs().stream().anyMatch(l -> l.contains("ring 2 not started: no address")), "said why: " + rig.logs());
            // The front end fixes it: both pairs run.
            ring(fe, 2, RingLayout.split(RX_RING_1, QUEUE_SIZE, 4), kicks[2], calls[2]);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning());
            assertEquals(2, device.net().queuePairs());
        }
        rig.awaitServed(1);
    }

    /** QEMU's vhost-user net sends each ADD_MEM_REG once per queue pair (and REM_MEM_REG too): one mapping, two references. */
    @Test
    void duplicateAddMemRegPerPairSharesOneMappingUntilTheLastRemove() throws Exception
    {
        serve(2, 1);
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            fe.send(VhostUserRequest.SET_OWNER, FLAGS_VERSION, new byte[0]);
            final long features = fe.getU64(VhostUserRequest.GET_FEATURES);
            fe.setU64(VhostUserRequest.SET_PROTOCOL_FEATURES, fe.getU64(VhostUserRequest.GET_PROTOCOL_FEATURES));
            fe.setU64(VhostUserRequest.SET_FEATURES, features);
            final byte[] region = TestFrontEnd.singleRegion(fe.wholeMemory());
            assertEquals(0, fe.acked(VhostUserRequest.ADD_MEM_REG, region, fe.memFd), "pair 0's vhost device");
            assertEquals(0, fe.acked(VhostUserRequest.ADD_MEM_REG, region, fe.memFd), "pair 1's: the same region again");
            assertEquals(2, ProcessResources.mappings("braid-fe"), "the front end's mapping and one of the back end's");
            ring(fe, 0, RingLayout.split(RX_RING, QUEUE_SIZE, 4), kicks[0], calls[0]);
            ring(fe, 1, RingLayout.split(TX_RING, QUEUE_SIZE, 4), kicks[1], calls[1]);
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning());
            // A different region overlapping the first is still refused.
            assertNotEquals(0, fe.acked(VhostUserRequest.ADD_MEM_REG,
                TestFrontEnd.singleRegion(new long[] {4096, 8192, fe.memAddress + 4096, 4096}), fe.memFd), "overlap refused");
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning());
            final long starts = device.starts();
            // QEMU's REM_MEM_REG carries mmap_offset 0. The first drops a reference: memory unchanged, no restart.
            final long[] rem = fe.wholeMemory();
            assertEquals(0, fe.acked(VhostUserRequest.REM_MEM_REG, TestFrontEnd.singleRegion(rem)));
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning(), "still running on the region");
            assertEquals(starts, device.starts(), "a dropped copy does not restart the device");
            assertEquals(2, ProcessResources.mappings("braid-fe"));
            assertEquals(0, fe.acked(VhostUserRequest.REM_MEM_REG, TestFrontEnd.singleRegion(rem)), "the last reference");
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertFalse(rig.backend().isDeviceRunning(), "no memory, no device");
            assertEquals(1, ProcessResources.mappings("braid-fe"), "unmapped");
            assertNotEquals(0, fe.acked(VhostUserRequest.REM_MEM_REG, TestFrontEnd.singleRegion(rem)), "nothing left to remove");
        }
        rig.awaitServed(1);
    }

    /** A stop with empty rx buffers on one card (filled in order): GET_VRING_BASE rewinds past them, so a restart pops them again. */
    @Test
    void aStopHandsBackEmptyRxBuffersAndTheRestartUsesThem() throws Exception
    {
        serve(1, 1);
        try (TestFrontEnd fe = new TestFrontEnd(rig.socket(), 4 << 20))
        {
            negotiate(fe, 1);
            final SplitDriverQueue[] pair = startPairZero(fe);
            final SplitDriverQueue rx = pair[0];
            final SplitDriverQueue tx = pair[1];
            postRx(rx, 8);
            int length = FrameBuilder.icmpEchoRequest(frame, GuestNetTest.GUEST_MAC, GuestNetTest.PEER_MAC,
                GuestNetTest.GUEST_IP, GuestNetTest.PEER_IP, 1, 1, new byte[8], 0, 8);
            sendTx(fe, tx, 0, length);
            await(tx, 1);
            await(rx, 1); // one buffer used, seven wait for frames
            fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(0, 0));
            fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(1, 0));
            fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(0, 0));
            assertEquals(1, fe.reply(VhostUserRequest.GET_VRING_BASE).getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN),
                "rx base: past the used buffer only");
            fe.send(VhostUserRequest.GET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(1, 0));
            assertEquals(1, fe.reply(VhostUserRequest.GET_VRING_BASE).getInt(HEADER_LENGTH + 4, LITTLE_ENDIAN));
            assertEquals(7, device.rewound());
            assertEquals(0, device.rxLeft());

            // Restart from those bases: the seven buffers are popped again and take the next replies.
            for (int q = 0; q < 2; q++)
            {
                fe.send(VhostUserRequest.SET_VRING_BASE, FLAGS_VERSION, TestFrontEnd.state(q, 1));
                final int kick = TestFrontEnd.eventfd();
                fe.setU64(VhostUserRequest.SET_VRING_KICK, q, kick);
                Libc.close(kick);
                fe.send(VhostUserRequest.SET_VRING_ENABLE, FLAGS_VERSION, TestFrontEnd.state(q, 1));
            }
            fe.getU64(VhostUserRequest.GET_QUEUE_NUM);
            assertTrue(rig.backend().isDeviceRunning());
            for (int i = 1; i <= 7; i++)
            {
                length = FrameBuilder.icmpEchoRequest(frame, GuestNetTest.GUEST_MAC, GuestNetTest.PEER_MAC,
                    GuestNetTest.GUEST_IP, GuestNetTest.PEER_IP, 1, 1 + i, new byte[8], 0, 8);
                sendTx(fe, tx, i, length);
                await(tx, 1);
            }
            await(rx, 7);
            assertEquals(8, rx.usedIndex(), "all eight buffers used, none lost across the restart");
        }
        rig.awaitServed(1);
    }
}
