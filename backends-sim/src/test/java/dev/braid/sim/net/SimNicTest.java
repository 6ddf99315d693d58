package dev.braid.sim.net;

import dev.braid.sim.CardFault;
import dev.braid.sim.ManualNanoClock;
import dev.braid.sim.CompletionLog;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.braid.sim.net.FrameDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

class SimNicTest
{
    static final long LATENCY = 1_000;
    static final int HEADER = 12;
    static final long PEER_MAC = 0x0200_0000_00FEL;
    static final int PEER_IP = FrameBuilder.ipv4(10, 0, 0, 254);
    static final long DEVICE_MAC = 0x0200_0000_0001L;
    static final int GUEST_IP = FrameBuilder.ipv4(10, 0, 0, 1);
    static final long TX_AREA = 0x1000;
    static final long RX_AREA = 0x8000;

    final ManualNanoClock clock = new ManualNanoClock();
    final GuestMemory memory = GuestMemory.allocate(1 << 16);
    final PeerHost peer = new PeerHost(PEER_MAC, PEER_IP);
    final L2Segment segment = new L2Segment(peer);
    final CompletionLog sink = new CompletionLog();
    final byte[] frame = new byte[MAX_FRAME_LENGTH];
    SimNic nicA;
    SimNic nicB;
    long nextToken = 1000;

    @BeforeEach
    void setUp()
    {
        nicA = new SimNic("nic-a", FrameBuilder.macBytes(0x0200_0000_0A0AL), segment, clock, 2, 8, 4, LATENCY);
        nicB = new SimNic("nic-b", FrameBuilder.macBytes(0x0200_0000_0B0BL), segment, clock, 2, 8, 4, LATENCY);
        nicA.setMacAddress(FrameBuilder.macBytes(DEVICE_MAC));
        nicB.setMacAddress(FrameBuilder.macBytes(DEVICE_MAC));
    }

    /** Puts {@code length} bytes of {@code frame} into guest memory behind a virtio-net header and queues them. */
    NetFrame txFrame(final byte[] bytes, final int length)
    {
        FrameBuilder.writeToGuest(memory, TX_AREA, HEADER, bytes, length);
        final NetFrame f = new NetFrame(4);
        f.data().reset(memory);
        // Split across two segments to exercise the scatter-gather copy.
        final int first = HEADER + Math.min(length, 20);
        f.data().add(TX_AREA, first);
        f.data().add(TX_AREA + first, HEADER + length - first);
        f.headerSkip(HEADER);
        return f;
    }

    CompletionLog.Completion send(final SimNic nic, final int queue, final byte[] bytes, final int length)
    {
        final long token = nextToken++;
        assertTrue(nic.transmit(queue, txFrame(bytes, length), token, sink));
        assertEquals(0, nic.poll(queue), "nothing completes before the service latency");
        clock.advance(LATENCY);
        assertEquals(1, nic.poll(queue));
        return sink.byToken(token);
    }

    /** Drains every rx queue of {@code nic} into guest memory and returns the frames read back. */
    List<byte[]> receiveAll(final SimNic nic)
    {
        final List<byte[]> frames = new ArrayList<>();
        final NetFrame buffer = new NetFrame(2);
        for (int q = 0; q < nic.queueCount(); q++)
        {
            while (true)
            {
                buffer.data().reset(memory);
                buffer.data().add(RX_AREA, HEADER + 100);
                buffer.data().add(RX_AREA + HEADER + 100, 2000);
                buffer.headerSkip(HEADER);
                final int length = nic.receive(q, buffer);
                if (length <= 0)
                {
                    break;
                }
                final byte[] bytes = new byte[length];
                memory.getBytes(RX_AREA + HEADER, bytes, 0, length);
                frames.add(bytes);
            }
        }
        return frames;
    }

    static byte[] payload(final int length, final int seed)
    {
        final byte[] p = new byte[length];
        for (int i = 0; i < length; i++)
        {
            p[i] = (byte)(i * 7 + seed);
        }
        return p;
    }

    @Test
    void arpRequestIsAnsweredOnTheSendingNic()
    {
        final int length = FrameBuilder.arpRequest(frame, DEVICE_MAC, GUEST_IP, PEER_IP);
        final CompletionLog.Completion c = send(nicA, 0, frame, length);
        assertEquals(CardStatus.OK, c.status());
        assertEquals(length, c.length());

        final List<byte[]> frames = receiveAll(nicA);
        assertEquals(1, frames.size());
        final byte[] reply = frames.get(0);
        assertTrue(FrameParser.isArpReply(reply, reply.length, PEER_IP, PEER_MAC));
        assertEquals(DEVICE_MAC, FrameParser.dstMac(reply));
        assertEquals(GUEST_IP, FrameParser.i32(reply, ARP_TPA));
        assertTrue(receiveAll(nicB).isEmpty());
        assertEquals(PEER_MAC, FrameParser.mac(reply, ETH_SRC));
        assertEquals(DEVICE_MAC, peer.arpLookup(GUEST_IP));
    }

    @Test
    void pingRoundTripWithCorrectChecksums()
    {
        final byte[] data = payload(56, 3);
        final int length = FrameBuilder.icmpEchoRequest(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 0x1234, 7, data, 0, data.length);
        assertEquals(FrameParser.OK, FrameParser.check(frame, length));
        assertEquals(CardStatus.OK, send(nicA, 1, frame, length).status());

        final List<byte[]> frames = receiveAll(nicA);
        assertEquals(1, frames.size());
        final byte[] reply = frames.get(0);
        assertEquals(FrameParser.OK, FrameParser.check(reply, reply.length));
        assertTrue(FrameParser.isEchoReply(reply, reply.length, PEER_IP, GUEST_IP, 0x1234, 7, data, 0, data.length));
        assertFalse(FrameParser.isEchoReply(reply, reply.length, GUEST_IP, PEER_IP, 0x1234, 7, data, 0, data.length), "addresses swapped");
        assertFalse(FrameParser.isUdp(reply, reply.length, PEER_IP, GUEST_IP, 0x1234, 7, data, 0, data.length), "ICMP is not UDP");
        assertEquals(0, FrameParser.checksum(reply, IP, 20, 0), "IP header checksum verifies");
        assertEquals(1, peer.echoReplies());
        assertEquals(1, nicA.txFrames());
        assertEquals(length, nicA.txBytes());
        assertEquals(1, nicA.rxFrames());
        assertEquals(reply.length, nicA.rxBytes());
    }

    @Test
    void udpIsEchoedWithPortsSwappedAndChecksum()
    {
        for (final boolean checksum : new boolean[] {true, false})
        {
            final byte[] data = payload(33, checksum ? 1 : 2);
            final int length = FrameBuilder.udp(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 40000, 7, data, 0, data.length, checksum);
            assertEquals(CardStatus.OK, send(nicB, 0, frame, length).status());
            final List<byte[]> frames = receiveAll(nicB);
            assertEquals(1, frames.size());
            final byte[] reply = frames.get(0);
            assertTrue(FrameParser.isUdp(reply, reply.length, PEER_IP, GUEST_IP, 7, 40000, data, 0, data.length));
            assertFalse(FrameParser.isUdp(reply, reply.length, PEER_IP, PEER_IP, 7, 40000, data, 0, data.length), "wrong destination");
            assertFalse(FrameParser.isEchoReply(reply, reply.length, PEER_IP, GUEST_IP, 7, 40000, data, 0, data.length), "UDP is not ICMP");
            assertNotEquals(0, FrameParser.u16(reply, IP + 20 + UDP_CHECKSUM), "the peer always fills the UDP checksum");
        }
        assertEquals(2, peer.udpEchoes());
    }

    @Test
    void malformedFramesAreDroppedAndCounted()
    {
        final byte[] data = payload(20, 9);
        int dropped = 0;

        int length = FrameBuilder.icmpEchoRequest(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 1, 1, data, 0, data.length);
        frame[IP + IP_CHECKSUM] ^= 0x5A;
        assertEquals(FrameParser.BAD_IP_CHECKSUM, FrameParser.check(frame, length));
        assertEquals(CardStatus.OK, send(nicA, 0, frame, length).status());
        dropped++;

        length = FrameBuilder.icmpEchoRequest(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 1, 2, data, 0, data.length);
        assertEquals(FrameParser.BAD_LENGTH, FrameParser.check(frame, length - 10));
        send(nicA, 0, frame, length - 10);
        dropped++;

        length = FrameBuilder.icmpEchoRequest(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 1, 3, data, 0, data.length);
        frame[IP + 20 + ICMP_HEADER_LENGTH] ^= 1;
        assertEquals(FrameParser.BAD_L4_CHECKSUM, FrameParser.check(frame, length));
        send(nicA, 0, frame, length);
        dropped++;

        length = FrameBuilder.udp(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 1, 2, data, 0, data.length, true);
        frame[IP + 20 + UDP_CHECKSUM] ^= 0x10;
        assertEquals(FrameParser.BAD_L4_CHECKSUM, FrameParser.check(frame, length));
        send(nicA, 0, frame, length);
        dropped++;

        length = FrameBuilder.udp(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 1, 2, data, 0, data.length, false);
        FrameBuilder.putU16(frame, IP + 20 + UDP_LENGTH, 200);
        assertEquals(FrameParser.BAD_LENGTH, FrameParser.check(frame, length));
        send(nicA, 0, frame, length);
        dropped++;

        length = FrameBuilder.icmpEchoRequest(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 1, 4, data, 0, data.length);
        frame[IP] = 0x44;                                         // IHL 4: shorter than an IPv4 header
        assertEquals(FrameParser.BAD_HEADER, FrameParser.check(frame, length));
        send(nicA, 0, frame, length);
        dropped++;

        length = FrameBuilder.arpRequest(frame, DEVICE_MAC, GUEST_IP, PEER_IP);
        assertEquals(FrameParser.TRUNCATED, FrameParser.check(frame, 30));
        send(nicA, 0, frame, 30);
        dropped++;

        assertEquals(dropped, segment.malformedDropped());
        assertEquals(0, peer.echoReplies() + peer.udpEchoes() + peer.arpReplies());
        assertTrue(receiveAll(nicA).isEmpty());

        // Shorter than an Ethernet header: the card itself refuses it.
        final CompletionLog.Completion runt = send(nicA, 0, frame, 10);
        assertEquals(CardStatus.INVALID, runt.status());
        assertEquals(1, nicA.txDropped());
    }

    @Test
    void repliesGoToThePortThatSentTheRequest()
    {
        final byte[] data = payload(8, 0);
        int length = FrameBuilder.icmpEchoRequest(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 9, 1, data, 0, data.length);
        send(nicA, 0, frame, length);
        assertEquals(1, receiveAll(nicA).size());
        assertTrue(receiveAll(nicB).isEmpty());
        assertEquals(nicA.port(), segment.portOf(DEVICE_MAC));

        length = FrameBuilder.icmpEchoRequest(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 9, 2, data, 0, data.length);
        send(nicB, 0, frame, length);
        assertEquals(1, receiveAll(nicB).size());
        assertTrue(receiveAll(nicA).isEmpty());
        assertEquals(nicB.port(), segment.portOf(DEVICE_MAC));
    }

    @Test
    void gratuitousArpMovesThePeersTrafficToTheSurvivor()
    {
        final byte[] data = payload(16, 4);
        final int length = FrameBuilder.arpRequest(frame, DEVICE_MAC, GUEST_IP, PEER_IP);
        send(nicA, 0, frame, length);
        receiveAll(nicA);

        assertTrue(segment.peerSendUdp(GUEST_IP, 5000, 6000, data, 0, data.length));
        List<byte[]> got = receiveAll(nicA);
        assertEquals(1, got.size());
        assertTrue(FrameParser.isUdp(got.get(0), got.get(0).length, PEER_IP, GUEST_IP, 5000, 6000, data, 0, data.length));

        nicA.inject(CardFault.FAIL_STOP, 0);
        assertTrue(segment.peerSendUdp(GUEST_IP, 5000, 6000, data, 0, data.length));
        assertEquals(1, segment.lostToDeadPort(), "the switch still points at the dead port");
        assertTrue(receiveAll(nicB).isEmpty());

        assertTrue(nicB.announce(FrameBuilder.macBytes(DEVICE_MAC), GUEST_IP));
        assertEquals(1, peer.announcements());
        assertEquals(DEVICE_MAC, peer.lastAnnouncedMac());
        assertEquals(GUEST_IP, peer.lastAnnouncedIp());
        assertEquals(nicB.port(), segment.portOf(DEVICE_MAC));

        assertTrue(segment.peerSendUdp(GUEST_IP, 5000, 6000, data, 0, data.length));
        got = receiveAll(nicB);
        assertEquals(1, got.size());
        assertTrue(FrameParser.isUdp(got.get(0), got.get(0).length, PEER_IP, GUEST_IP, 5000, 6000, data, 0, data.length));
        assertEquals(1, segment.lostToDeadPort());
        assertFalse(nicA.announce(FrameBuilder.macBytes(DEVICE_MAC), GUEST_IP), "a dead card cannot announce");
    }

    @Test
    void unknownDestinationsAreFloodedAndTheMacFilterApplies()
    {
        // Nothing learned yet: the peer's frame to the device MAC floods to both ports.
        peerLearns(GUEST_IP, DEVICE_MAC);
        final byte[] data = payload(4, 0);
        assertTrue(segment.peerSendUdp(GUEST_IP, 1, 2, data, 0, data.length));
        assertEquals(1, receiveAll(nicA).size());
        assertEquals(1, receiveAll(nicB).size());

        final int other = FrameBuilder.udp(frame, PEER_MAC, 0x0200_0000_0777L, PEER_IP, GUEST_IP, 1, 2, data, 0, data.length, true);
        assertTrue(nicA.deliver(frame, other));
        assertEquals(1, nicA.rxFiltered());
        nicA.setRxMode(true, false);
        assertTrue(nicA.deliver(frame, other));
        assertEquals(1, receiveAll(nicA).size());

        nicA.setRxMode(false, false);
        final int multicast = FrameBuilder.udp(frame, PEER_MAC, 0x0100_5E00_0001L, PEER_IP, GUEST_IP, 1, 2, data, 0, data.length, true);
        nicA.deliver(frame, multicast);
        assertEquals(2, nicA.rxFiltered());
        nicA.setRxMode(false, true);
        nicA.deliver(frame, multicast);
        assertEquals(1, receiveAll(nicA).size());

        final int own = FrameBuilder.udp(frame, PEER_MAC, nicA.macAddress(), PEER_IP, GUEST_IP, 1, 2, data, 0, data.length, true);
        nicA.setRxMode(false, false);
        nicA.deliver(frame, own);
        assertEquals(1, receiveAll(nicA).size(), "the card's own address is always accepted");
    }

    private void peerLearns(final int ip, final long mac)
    {
        // An ARP request from the guest teaches the peer, but its port learning would skew the test: use a
        // fresh segment-less path by delivering the learning frame through the peer directly.
        final int length = FrameBuilder.arpRequest(frame, mac, ip, PEER_IP);
        peer.handle(frame, length, new byte[MAX_FRAME_LENGTH]);
    }

    @Test
    void rxSpreadsFlowsOverQueuesAndDropsWhenFull()
    {
        final byte[] data = payload(4, 0);
        final int[] perQueue = new int[2];
        for (int port = 0; port < 64; port++)
        {
            final int length = FrameBuilder.udp(frame, PEER_MAC, DEVICE_MAC, PEER_IP, GUEST_IP, 7, 1000 + port, data, 0, data.length, true);
            final int queue = FrameParser.flowHash(frame, length) % 2;
            perQueue[queue]++;
            assertEquals(queue, FrameParser.flowHash(frame, length) % 2, "one flow, one queue");
        }
        assertTrue(perQueue[0] > 10 && perQueue[1] > 10, Arrays.toString(perQueue));

        final int length = FrameBuilder.udp(frame, PEER_MAC, DEVICE_MAC, PEER_IP, GUEST_IP, 7, 1000, data, 0, data.length, true);
        final int queue = FrameParser.flowHash(frame, length) % 2;
        for (int i = 0; i < 6; i++)
        {
            nicA.deliver(frame, length);
        }
        assertEquals(4, nicA.rxPending(queue), "ring of 4");
        assertEquals(2, nicA.rxDropped());
        assertEquals(4, receiveAll(nicA).size());
    }

    @Test
    void aFrameLargerThanTheGuestBufferIsDropped()
    {
        final byte[] data = payload(200, 0);
        final int length = FrameBuilder.udp(frame, PEER_MAC, DEVICE_MAC, PEER_IP, GUEST_IP, 7, 8, data, 0, data.length, true);
        nicA.deliver(frame, length);
        final int queue = FrameParser.flowHash(frame, length) % 2;
        final NetFrame small = new NetFrame(1);
        small.data().reset(memory);
        small.data().add(RX_AREA, HEADER + 64);
        small.headerSkip(HEADER);
        memory.setMemory(RX_AREA, HEADER + 64, (byte)0x33);
        assertEquals(-1, nicA.receive(queue, small));
        assertEquals(1, nicA.rxDropped());
        assertEquals(0, nicA.rxPending(queue));
        for (int i = 0; i < HEADER + 64; i++)
        {
            assertEquals(0x33, memory.getByte(RX_AREA + i), "nothing written on a drop");
        }
    }

    @Test
    void fenceCancelsPendingTxAndStopsRx()
    {
        final byte[] data = payload(8, 0);
        final int length = FrameBuilder.icmpEchoRequest(frame, DEVICE_MAC, PEER_MAC, GUEST_IP, PEER_IP, 1, 1, data, 0, data.length);
        assertTrue(nicA.transmit(0, txFrame(frame, length), 42, sink));
        nicA.fence();
        assertFalse(nicA.transmit(0, txFrame(frame, length), 43, sink), "fenced cards take no work");
        // The guest reuses the buffer; the card must not read it.
        memory.setMemory(TX_AREA, 200, (byte)0);
        clock.advance(LATENCY);
        assertEquals(1, nicA.poll(0));
        assertEquals(CardStatus.CANCELLED, sink.only().status());
        assertEquals(0, segment.framesFromGuests());

        // Rx: a frame for a fenced card never reaches guest memory.
        nicA.deliver(frame, length);
        memory.setMemory(RX_AREA, 4096, (byte)0x55);
        assertTrue(receiveAll(nicA).isEmpty());
        assertEquals(0x55, memory.getByte(RX_AREA + HEADER));
        assertEquals(1, nicA.rxDropped());

        nicA.unfence();
        assertEquals(CardStatus.OK, send(nicA, 0, frame, length).status());
        assertEquals(1, receiveAll(nicA).size());
    }

    @Test
    void linkDownFailsTxAndNotifies()
    {
        final List<String> events = new ArrayList<>();
        nicA.setEventListener(new CardEventListener()
        {
            public void onLinkChange(final Card card, final boolean up)
            {
                events.add(card.name() + (up ? " up" : " down"));
            }

            public void onCardError(final Card card, final int code)
            {
                events.add("error");
            }
        });
        nicA.inject(CardFault.LINK_DOWN, 0);
        assertFalse(nicA.isLinkUp());
        final int length = FrameBuilder.arpRequest(frame, DEVICE_MAC, GUEST_IP, PEER_IP);
        assertEquals(CardStatus.IO_ERROR, send(nicA, 0, frame, length).status());
        assertEquals(1, nicA.txErrors());
        nicA.heal();
        assertTrue(nicA.isLinkUp());
        assertEquals(List.of("nic-a down", "nic-a up"), events);
        assertEquals(CardStatus.OK, send(nicA, 0, frame, length).status());
    }

    @Test
    void hangSlowErrorBurstAndFailStop()
    {
        final int length = FrameBuilder.arpRequest(frame, DEVICE_MAC, GUEST_IP, PEER_IP);

        nicA.inject(CardFault.HANG, 0);
        assertTrue(nicA.transmit(0, txFrame(frame, length), 1, sink));
        clock.advance(100 * LATENCY);
        assertEquals(0, nicA.poll(0));
        assertTrue(nicA.isLinkUp(), "a hung card still reports its link up");
        nicA.heal();
        assertEquals(1, nicA.poll(0));
        assertEquals(CardStatus.OK, sink.byToken(1).status());

        nicA.inject(CardFault.SLOW, 4);
        assertTrue(nicA.transmit(0, txFrame(frame, length), 2, sink));
        clock.advance(3 * LATENCY);
        assertEquals(0, nicA.poll(0));
        clock.advance(LATENCY);
        assertEquals(1, nicA.poll(0));

        nicA.inject(CardFault.ERROR_BURST, 2);
        assertEquals(CardStatus.IO_ERROR, send(nicA, 0, frame, length).status());
        assertEquals(CardStatus.IO_ERROR, send(nicA, 0, frame, length).status());
        assertEquals(CardStatus.OK, send(nicA, 0, frame, length).status(), "the burst is over");

        nicA.inject(CardFault.FAIL_STOP, 0);
        assertFalse(nicA.transmit(0, txFrame(frame, length), 9, sink));
        assertFalse(nicA.isLinkUp());
    }

    @Test
    void zombieDeliversLateCompletionsWithoutReadingMemory()
    {
        final int length = FrameBuilder.arpRequest(frame, DEVICE_MAC, GUEST_IP, PEER_IP);
        nicA.inject(CardFault.ZOMBIE, 5 * LATENCY);
        assertTrue(nicA.transmit(0, txFrame(frame, length), 77, sink));
        clock.advance(10 * LATENCY);
        assertEquals(0, nicA.poll(0), "a zombie looks hung");
        nicA.fence();
        clock.advance(4 * LATENCY);
        assertEquals(0, nicA.poll(0));
        clock.advance(LATENCY);
        assertEquals(1, nicA.poll(0));
        assertEquals(CardStatus.OK, sink.only().status());
        assertEquals(77, sink.only().token());
        assertEquals(0, segment.framesFromGuests(), "the frame was never read");
    }

    @Test
    void completionsWaitWhileTheSinkIsFullAndKeepOrder()
    {
        final int length = FrameBuilder.arpRequest(frame, DEVICE_MAC, GUEST_IP, PEER_IP);
        final NetFrame f = txFrame(frame, length);
        for (long t = 1; t <= 3; t++)
        {
            assertTrue(nicA.transmit(0, f, t, sink));
        }
        sink.full = true;
        clock.advance(LATENCY);
        assertEquals(0, nicA.poll(0));
        assertEquals(0, nicA.poll(0));
        assertEquals(1, segment.framesFromGuests(), "the head frame is sent once, not per retry; the rest wait behind it");
        sink.full = false;
        assertEquals(3, nicA.poll(0));
        assertEquals(List.of(1L, 2L, 3L), sink.completions.stream().map(CompletionLog.Completion::token).toList());
        assertEquals(3, segment.framesFromGuests());
    }

    @Test
    void queueDepthBoundsTransmit()
    {
        final int length = FrameBuilder.arpRequest(frame, DEVICE_MAC, GUEST_IP, PEER_IP);
        final NetFrame f = txFrame(frame, length);
        for (int i = 0; i < nicA.queueDepth(); i++)
        {
            assertTrue(nicA.transmit(1, f, i, sink));
        }
        assertFalse(nicA.transmit(1, f, 99, sink));
        assertFalse(nicA.transmit(5, f, 99, sink), "no such queue");
        assertEquals(0, nicA.receive(-1, f));
    }
}
