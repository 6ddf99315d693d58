package dev.braid.aggregator.net;

import dev.braid.aggregator.QueueStats;
import dev.braid.testkit.guest.NetGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.Failback;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.virtio.card.NetCard;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class NetAggregationTest
{
    static final long DEVICE_MAC = 0x525400AA0001L;
    static final long PEER_MAC = 0x525400BB0001L;
    static final int GUEST_IP = FrameBuilder.ipv4(10, 0, 0, 2);
    static final int PEER_IP = FrameBuilder.ipv4(10, 0, 0, 1);

    @Test
    void activeActiveFlowHashAnswersEveryPing()
    {
        final Rig rig = new Rig(11, 3, true, 1, 2_000);
        assertTrue(rig.run(null), "workload finished");
        rig.assertClean();
        assertEquals(0, rig.guest.lostReplies(), "no reply lost without faults");
        assertEquals(2_000, rig.guest.repliesOk());
        int carrying = 0;
        for (final SimNic nic : rig.nics)
        {
            carrying += nic.txFrames() > 0 ? 1 : 0;
        }
        assertTrue(carrying >= 2, "flows spread over cards: " + carrying);
        assertEquals(0, rig.announcer().arpsSent());
    }

    @Test
    void activePassiveUsesOneCard()
    {
        final Rig rig = new Rig(12, 2, false, 1, 1_000);
        assertTrue(rig.run(null), "workload finished");
        rig.assertClean();
        assertEquals(0, rig.guest.lostReplies());
        assertEquals(1_000, rig.guest.repliesOk());
        assertTrue(rig.nics[0].txFrames() > 0);
        assertEquals(0, rig.nics[1].txFrames(), "the standby sends nothing");
    }

    @Test
    void failStopActiveActiveIsSurvivedAndAnnounced()
    {
        failStop(new Rig(21, 2, true, 1, 4_000));
    }

    @Test
    void failStopActivePassiveIsSurvivedAndAnnounced()
    {
        final Rig rig = new Rig(22, 2, false, 1, 4_000);
        failStop(rig);
        assertTrue(rig.nics[1].txFrames() > 0, "the standby took over");
    }

    @Test
    void failStopWithFourCards()
    {
        failStop(new Rig(23, 4, true, 1, 4_000));
    }

    @Test
    void hotRemoveUnderLoadHandsHeldRxBuffersToTheSurvivors()
    {
        final Rig rig = new Rig(24, 3, true, 1, 4_000);
        assertTrue(rig.run(null, () -> rig.net.device().hotRemove(0)), "workload finished");
        rig.assertClean();
        assertTrue(rig.net.device().port(0).isRemoved(), "the card was dropped once drained");
        assertTrue(rig.repliesAfterFault > 0, "replies kept flowing");
    }

    private static void failStop(final Rig rig)
    {
        assertTrue(rig.run(CardFault.FAIL_STOP), "workload finished");
        rig.assertClean();
        final NetDeviceState state = rig.net.state();
        assertTrue(rig.announcer().arpsSent() >= 1, "a gratuitous ARP was sent through a survivor");
        assertTrue(rig.peer.announcements() >= 1, "the peer saw it");
        assertEquals(DEVICE_MAC, rig.peer.lastAnnouncedMac());
        assertEquals(GUEST_IP, rig.peer.lastAnnouncedIp(), "the guest address was learned from its tx");
        assertTrue(state.announcesRequested() >= 1, "VIRTIO_NET_S_ANNOUNCE was set");
        assertTrue(rig.configInterrupts.get() >= 1, "with a config interrupt");
        assertTrue(rig.guest.announceAcks() >= 1, "the guest acked");
        assertFalse(state.announcePending(), "the ack cleared it");
        assertTrue(state.configGeneration() >= 2, "the generation moved on set and clear");
        assertTrue(rig.repliesAfterFault > 0 && rig.guest.repliesOk() > rig.repliesAtFault + 100,
            "replies flow through the survivors");
        assertTrue(rig.guest.lostReplies() < 200, "few replies lost: " + rig.guest.lostReplies());
        System.out.println("lost=" + rig.guest.lostReplies() + " late=" + rig.guest.lateReplies() +
            " replayed=" + rig.net.device().frontQueue(1).stats().get(QueueStats.REPLAYED));
    }

    @Test
    void controlQueueValidatesCommands()
    {
        final Rig rig = new Rig(31, 2, true, 2, 0);
        final NetDeviceState state = rig.net.state();
        // MQ: 0 and above max_virtqueue_pairs (2) are refused, 2 and 1 are taken.
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_MQ, 0, 0, 0));
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_MQ, 0, 3, 0));
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_MQ, 0, 1));
        assertEquals(VirtioNet.VIRTIO_NET_OK, rig.command(VirtioNet.VIRTIO_NET_CTRL_MQ, 0, 2, 0));
        assertEquals(2, state.activePairs());
        assertEquals(VirtioNet.VIRTIO_NET_OK, rig.command(VirtioNet.VIRTIO_NET_CTRL_MQ, 0, 1, 0));
        assertEquals(1, state.activePairs());

        // RX mode: one byte of payload exactly; the RX_EXTRA modes are not offered.
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_RX, 0, 1, 0));
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_RX, 2, 1));
        assertFalse(state.promiscuous());
        assertEquals(VirtioNet.VIRTIO_NET_OK, rig.command(VirtioNet.VIRTIO_NET_CTRL_RX, 0, 1));
        assertEquals(VirtioNet.VIRTIO_NET_OK, rig.command(VirtioNet.VIRTIO_NET_CTRL_RX, 1, 1));
        assertTrue(state.promiscuous() && state.allMulticast());
        assertEquals(VirtioNet.VIRTIO_NET_OK, rig.command(VirtioNet.VIRTIO_NET_CTRL_RX, 0, 0));
        assertFalse(state.promiscuous());

        // MAC: a multicast station address is refused; a good one reprograms the device.
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_MAC, 1, 0x01, 0, 0x5E, 0, 0, 1));
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_MAC, 1, 0x52, 0x54, 0, 0, 0));
        assertEquals(VirtioNet.VIRTIO_NET_OK, rig.command(VirtioNet.VIRTIO_NET_CTRL_MAC, 1, 0x52, 0x54, 0, 0xAA, 0, 2));
        assertEquals(0x525400AA0002L, state.mac());
        // MAC table: sizes must add up; one multicast entry widens the cards' filter.
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_MAC, 0, 0, 0, 0, 0, 1, 0, 0, 0));
        assertEquals(VirtioNet.VIRTIO_NET_OK, rig.command(VirtioNet.VIRTIO_NET_CTRL_MAC, 0,
            0, 0, 0, 0, 1, 0, 0, 0, 0x01, 0, 0x5E, 0, 0, 1));
        assertTrue(state.cardAllMulticast() && !state.cardPromiscuous());

        // ANNOUNCE: an ack with a payload is refused; a good ack clears the status bit.
        assertTrue(state.requestAnnounce());
        assertTrue(state.announcePending());
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_ANNOUNCE, 0, 0));
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(VirtioNet.VIRTIO_NET_CTRL_ANNOUNCE, 1));
        assertTrue(state.announcePending());
        assertEquals(VirtioNet.VIRTIO_NET_OK, rig.command(VirtioNet.VIRTIO_NET_CTRL_ANNOUNCE, 0));
        assertFalse(state.announcePending());

        // Unknown class, no payload at all, and a chain without an ack byte.
        assertEquals(VirtioNet.VIRTIO_NET_ERR, rig.command(9, 0));
        assertEquals(0, rig.commandWithoutAck());
        assertEquals(0, rig.guestStrays());
        assertTrue(rig.net.controlHandler().errors() >= 12);
    }

    @Test
    void badTxAndRxChainsAreDroppedNotFatal()
    {
        final Rig rig = new Rig(41, 2, true, 1, 200);
        // A tx chain shorter than the header, and an rx chain with a readable segment.
        rig.txDriver.addChain(new BufferChain(2).readable(rig.scratchGpa, 4), false);
        rig.txDriver.publish();
        rig.rxDriver.addChain(new BufferChain(2).readable(rig.scratchGpa, 64), false);
        rig.rxDriver.publish();
        assertTrue(rig.run(null), "workload finished");
        assertEquals(1, rig.net.txHandler(0).dropped());
        assertEquals(1, rig.net.rxHandler(0).badBuffers());
        assertEquals(200, rig.guest.repliesOk());
    }

    static final class Rig
    {
        final VirtualClock clock = new VirtualClock();
        final DeterministicScheduler scheduler;
        final GuestMemory memory = GuestMemory.allocate(16 << 20);
        final PeerHost peer = new PeerHost(PEER_MAC, PEER_IP);
        final L2Segment segment = new L2Segment(peer);
        final SimNic[] nics;
        final NetDevice net;
        final NetGuestWorkload guest;
        final SplitDriverQueue rxDriver;
        final SplitDriverQueue txDriver;
        final SplitDriverQueue ctrlDriver;
        final AtomicInteger configInterrupts = new AtomicInteger();
        final long scratchGpa = 15 << 20;
        long repliesAtFault = -1;
        long repliesAfterFault;

        Rig(final long seed, final int cards, final boolean activeActive, final int pairs, final long requests)
        {
            System.out.println("seed=" + seed + " cards=" + cards + " activeActive=" + activeActive);
            scheduler = new DeterministicScheduler(seed, clock);
            final int size = 64;
            final DeviceQueue[] rx = new DeviceQueue[pairs];
            final DeviceQueue[] tx = new DeviceQueue[pairs];
            long gpa = 0;
            SplitDriverQueue firstRx = null;
            SplitDriverQueue firstTx = null;
            for (int p = 0; p < pairs; p++)
            {
                final RingLayout rxLayout = RingLayout.split(gpa, size, 4);
                gpa = RingLayout.alignUp(rxLayout.endGpa(), 4096);
                final RingLayout txLayout = RingLayout.split(gpa, size, 4);
                gpa = RingLayout.alignUp(txLayout.endGpa(), 4096);
                rx[p] = deviceQueue(rxLayout);
                tx[p] = deviceQueue(txLayout);
                if (p == 0)
                {
                    firstRx = new SplitDriverQueue(memory, rxLayout, true);
                    firstTx = new SplitDriverQueue(memory, txLayout, true);
                }
            }
            final RingLayout ctrlLayout = RingLayout.split(gpa, 8, 4);
            gpa = RingLayout.alignUp(ctrlLayout.endGpa(), 4096);
            rxDriver = firstRx;
            txDriver = firstTx;
            ctrlDriver = new SplitDriverQueue(memory, ctrlLayout, true);

            nics = new SimNic[cards];
            final List<NetCard> cardList = new ArrayList<>();
            for (int i = 0; i < cards; i++)
            {
                nics[i] = new SimNic("nic" + i, FrameBuilder.macBytes(0x525400CC0000L + i), segment, clock,
                    1, 64, 256, 20_000);
                cardList.add(nics[i]);
            }
            net = VirtioNetDevice.aggregate(new VirtioNetDevice.Context().memory(memory).cards(cardList).mac(DEVICE_MAC)
                .aggregation(activeActive ? Aggregation.activeActive(SelectorKind.FLOW_HASH) :
                    Aggregation.activePassive(Failback.manual()))
                .health(new HealthConfig().completionTimeoutNanos(5_000_000).minDownNanos(2_000_000)
                    .probeIntervalNanos(1_000_000))
                .configInterrupt(configInterrupts::incrementAndGet).clock(clock).seed(seed),
                rx, tx, deviceQueue(ctrlLayout), NetAggregation.defaultFeatures());
            for (final Agent agent : net.agents())
            {
                scheduler.addAgent(agent);
            }
            guest = NetGuestWorkload.builder().queues(rxDriver, txDriver, ctrlDriver).memory(memory)
                .areaGpa(RingLayout.alignUp(gpa, 4096)).guest(DEVICE_MAC, GUEST_IP).peer(PEER_MAC, PEER_IP)
                .requests(requests).maxAwaiting(32).replyTimeoutNanos(2_000_000).clock(clock)
                .configStatus(() -> net.state().status()).seed(seed).build();
            if (requests > 0)
            {
                scheduler.addAgent(guest);
            }
            final TimerSource heartbeat = () -> clock.nanoTime() + 100_000;
            scheduler.addTimerSource(heartbeat);
        }

        private DeviceQueue deviceQueue(final RingLayout layout)
        {
            return new SplitQueue(memory, layout.queueSize(), layout.descGpa(), layout.availGpa(), layout.usedGpa(),
                true, true);
        }

        NetAnnouncer announcer()
        {
            return net.announcer();
        }

        boolean run(final CardFault fault)
        {
            return run(fault, null);
        }

        boolean run(final CardFault fault, final Runnable action)
        {
            final long faultAt = 3_000_000;
            boolean injected = fault == null && action == null;
            final long deadline = 60_000_000_000L;
            while (!guest.isFinished())
            {
                if (!injected && clock.nanoTime() >= faultAt)
                {
                    if (fault != null)
                    {
                        nics[0].inject(fault, 0);
                    }
                    else
                    {
                        action.run();
                    }
                    repliesAtFault = guest.repliesOk();
                    injected = true;
                }
                if (clock.nanoTime() > deadline)
                {
                    return false;
                }
                scheduler.runRound();
            }
            if (repliesAtFault >= 0)
            {
                repliesAfterFault = guest.repliesOk() - repliesAtFault;
            }
            // Let the announce ack and the last completions settle.
            scheduler.runFor(20_000_000);
            return true;
        }

        void assertClean()
        {
            assertEquals(0, guest.strays(), "duplicate or stray completions");
            assertEquals(0, guest.duplicateReplies(), "duplicate replies");
            assertEquals(0, guest.corruptReplies(), "corrupt replies");
            assertEquals(0, guest.rxErrors(), "rx buffers with a bad length or header");
            assertEquals(0, guest.txOutstanding(), "tx buffers never completed");
            assertEquals(guest.txPosted(), guest.txCompleted(), "every tx completed exactly once");
            assertEquals(0, guest.controlErrors());
            assertEquals(guest.requestsSent(), guest.repliesOk() + guest.lostReplies());
        }

        long guestStrays()
        {
            return ctrlDriver.deviceFaults();
        }

        /** Posts one control command (class, command, payload bytes) and returns its ack byte. */
        int command(final int commandClass, final int command, final int... payload)
        {
            final long gpa = scratchGpa;
            memory.putByte(gpa, (byte)commandClass);
            memory.putByte(gpa + 1, (byte)command);
            for (int i = 0; i < payload.length; i++)
            {
                memory.putByte(gpa + 2 + i, (byte)payload[i]);
            }
            final long ack = gpa + 256;
            memory.putByte(ack, (byte)0x7F);
            final BufferChain chain = new BufferChain(4).readable(gpa, 2 + payload.length).writable(ack, 1);
            final int[] used = post(chain);
            assertEquals(1, used[1], "an acked command has used length 1");
            return memory.getByte(ack);
        }

        int commandWithoutAck()
        {
            memory.putByte(scratchGpa, (byte)VirtioNet.VIRTIO_NET_CTRL_ANNOUNCE);
            memory.putByte(scratchGpa + 1, (byte)0);
            return post(new BufferChain(2).readable(scratchGpa, 2))[1];
        }

        private int[] post(final BufferChain chain)
        {
            final int id = ctrlDriver.addChain(chain, false);
            assertTrue(id >= 0);
            ctrlDriver.publish();
            final int[] used = {-1, -1};
            assertTrue(scheduler.runUntil(() ->
            {
                ctrlDriver.reap((i, len) ->
                {
                    used[0] = i;
                    used[1] = len;
                });
                return used[0] >= 0;
            }, 10_000_000), "the control command completed");
            assertEquals(id, used[0]);
            return used;
        }
    }
}
