package dev.braid.sim.net;

import dev.braid.sim.CompletionLog;
import dev.braid.sim.ManualNanoClock;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.SplittableRandom;

import static dev.braid.sim.net.FrameDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Randomly damaged frames from the guest: the wire never throws, drops exactly the frames the
 * checker rejects, and everything the peer sends back is itself valid. Seeded: replay with -Dbraid.seed=N.
 */
@ExtendWith(SeedExtension.class)
class FrameRobustnessTest
{
    static final long PEER_MAC = 0x0200_0000_00FEL;
    static final int PEER_IP = FrameBuilder.ipv4(192, 168, 1, 1);
    static final long GUEST_MAC = 0x0200_0000_0001L;
    static final int GUEST_IP = FrameBuilder.ipv4(192, 168, 1, 2);

    @Test
    void damagedFramesAreDroppedNeverThrown(final Seed seed)
    {
        final int iterations = seed.seeds();
        final SplittableRandom random = new SplittableRandom(seed.value());

        final ManualNanoClock clock = new ManualNanoClock();
        final GuestMemory memory = GuestMemory.allocate(1 << 14);
        final PeerHost peer = new PeerHost(PEER_MAC, PEER_IP);
        final L2Segment segment = new L2Segment(peer);
        final SimNic nic = new SimNic("nic", FrameBuilder.macBytes(GUEST_MAC), segment, clock, 4, 4, 64, 10);
        final CompletionLog sink = new CompletionLog();
        final NetFrame tx = new NetFrame(3);
        final NetFrame rx = new NetFrame(1);
        final byte[] frame = new byte[MAX_FRAME_LENGTH];
        final byte[] payload = new byte[1400];
        final byte[] received = new byte[MAX_FRAME_LENGTH];

        long expectedMalformed = 0;
        long replies = 0;
        for (int i = 0; i < iterations; i++)
        {
            random.nextBytes(payload);
            final int payloadLength = random.nextInt(0, 1400);
            int length;
            switch (random.nextInt(4))
            {
                case 0:
                    length = FrameBuilder.arpRequest(frame, GUEST_MAC, GUEST_IP, PEER_IP);
                    break;
                case 1:
                    length = FrameBuilder.icmpEchoRequest(frame, GUEST_MAC, PEER_MAC, GUEST_IP, PEER_IP, i, i, payload, 0, payloadLength);
                    break;
                case 2:
                    length = FrameBuilder.udp(frame, GUEST_MAC, PEER_MAC, GUEST_IP, PEER_IP, i, 7, payload, 0, payloadLength, random.nextBoolean());
                    break;
                default:
                    length = random.nextInt(ETH_HEADER_LENGTH, 200);
                    random.nextBytes(frame);
                    FrameBuilder.ethernet(frame, PEER_MAC, GUEST_MAC, random.nextBoolean() ? ETHERTYPE_IPV4 : ETHERTYPE_ARP);
                    break;
            }
            // Damage: flip bytes after the MAC addresses, and/or cut the frame.
            final int flips = random.nextInt(3);
            for (int f = 0; f < flips; f++)
            {
                frame[random.nextInt(12, length)] ^= (byte)(1 + random.nextInt(255));
            }
            if (random.nextInt(4) == 0)
            {
                length = random.nextInt(ETH_HEADER_LENGTH, length + 1);
            }
            if (FrameParser.check(frame, length) != FrameParser.OK)
            {
                expectedMalformed++;
            }

            memory.putBytes(0x100, frame, 0, length);
            tx.data().reset(memory);
            final int cut = random.nextInt(0, length + 1);
            tx.data().add(0x100 - 10, 10 + cut);
            tx.data().add(0x100 + cut, length - cut);
            tx.headerSkip(10);
            final long token = i;
            assertTrue(nic.transmit(i & 3, tx, token, sink));
            clock.advance(10);
            assertEquals(1, nic.poll(i & 3));
            assertEquals(CardStatus.OK, sink.byToken(token).status());

            for (int q = 0; q < 4; q++)
            {
                rx.data().reset(memory);
                rx.data().add(0x1000, 4096);
                rx.headerSkip(0);
                final int got = nic.receive(q, rx);
                if (got > 0)
                {
                    memory.getBytes(0x1000, received, 0, got);
                    assertEquals(FrameParser.OK, FrameParser.check(received, got), "replies are valid frames, seed=" + seed.value());
                    assertEquals(GUEST_MAC, FrameParser.dstMac(received));
                    replies++;
                }
            }
            sink.completions.clear();
        }
        assertEquals(expectedMalformed, segment.malformedDropped(), seed.toString());
        // An ARP reply goes to the request's sender hardware address, which damage may have changed.
        assertEquals(peer.arpReplies() + peer.echoReplies() + peer.udpEchoes(), replies + nic.rxFiltered(), seed.toString());
        assertEquals(0, nic.rxDropped(), seed.toString());
        assertEquals(iterations, nic.txFrames());
    }

    @Test
    void checkerNeverThrowsOnArbitraryBytes(final Seed seed)
    {
        final SplittableRandom random = new SplittableRandom(seed.value());
        final byte[] frame = new byte[256];
        for (int i = 0; i < seed.seeds() * 10; i++)
        {
            random.nextBytes(frame);
            final int length = random.nextInt(0, frame.length + 1);
            final int code = FrameParser.check(frame, length);
            assertTrue(code >= FrameParser.OK && code <= FrameParser.BAD_L4_CHECKSUM);
            FrameParser.flowHash(frame, length);
        }
    }
}
