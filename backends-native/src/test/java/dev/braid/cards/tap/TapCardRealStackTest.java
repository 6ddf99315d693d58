package dev.braid.cards.tap;

import dev.braid.testkit.TapNetwork;
import dev.braid.testkit.guest.GuestFrames;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One TAP card against a real Linux stack in a namespace behind a bridge: ARP and ICMP round
 * trips through guest memory, split buffers, a frame too big for its buffer, the link set down
 * (a failing write, then the flags) and up, fence, and the TAP deleted and created again.
 */
class TapCardRealStackTest
{
    private static final long GUEST_MAC = 0x02B7A1000010L;
    private static final int HDR = 12;
    private static final long TX_GPA = 0x1000;
    private static final long RX_GPA = 0x10000;
    private static final byte CANARY = (byte)0xA5;

    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final List<String> events = new ArrayList<>();
    private final long[] completion = new long[3];
    private int completions;
    private final CompletionSink sink = (token, status, length) ->
    {
        completion[0] = token;
        completion[1] = status;
        completion[2] = length;
        completions++;
        return true;
    };

    @BeforeEach
    void peers()
    {
        TapNetwork.requirePeers();
    }

    @Test
    void roundTripsThroughARealStackAndSurvivesLinkDownFenceAndDelete() throws Exception
    {
        try (TapNetwork network = TapNetwork.create(1))
        {
            final TapNetCard card = new TapNetCard(new TapCardContext().spec("tap:" + network.tap(0)).name("tapA")
                .queueCount(2).linkCheckInterval(1, TimeUnit.HOURS));
            try
            {
                card.setEventListener(new CardEventListener()
                {
                    public void onLinkChange(final Card c, final boolean up)
                    {
                        events.add(up ? "up" : "down");
                    }

                    public void onCardError(final Card c, final int code)
                    {
                        events.add("error " + code);
                    }
                });
                assertTrue(card.isLinkUp(), "a fresh card on an up TAP is up");
                network.awaitForwarding(network.tap(0));

                final long nsMac = arpRoundTrip(card, network);
                assertEquals(network.namespaceMac(), nsMac, "the ARP reply names the namespace's veth");
                icmpRoundTrip(card, network, nsMac, 1, 56);
                icmpRoundTrip(card, network, nsMac, 2, 1400);

                // A frame larger than the guest buffer is dropped and counted; nothing lands past the buffer.
                network.staticNeighbour(network.guestIp(), GUEST_MAC);
                network.pingFromNamespace(network.guestIp(), 1000);
                final NetFrame small = rxBuffer(RX_GPA, 200);
                final int result = receiveAny(card, small, 2_000, frame -> true);
                assertEquals(-1, result, "a 1042-byte frame in a 200-byte buffer is dropped");
                assertEquals(1, card.rxDropped());
                assertEquals(CANARY, memory.getByte(RX_GPA + HDR + 200), "no byte past the buffer");

                // Set down: the first write fails with EIO (before any link check) and takes the link down.
                network.ip("link", "set", network.tap(0), "down");
                final NetFrame arp = txFrame(arpRequest(network), 42);
                completions = 0;
                assertTrue(card.transmit(0, arp, 77, sink), "accepted, then failed by the TAP");
                card.poll(0);
                assertEquals(1, completions);
                assertEquals(CardStatus.IO_ERROR, completion[1], "a write to a down TAP fails");
                assertFalse(card.isLinkUp());
                assertEquals("down", events.get(0));
                assertTrue(events.get(1).startsWith("error 5"), events.toString());
                assertFalse(card.transmit(0, arp, 78, sink), "a down card refuses tx");
                assertEquals(0, card.receive(0, rxBuffer(RX_GPA, 1600)));
                assertEquals(0, card.checkLink(), "the flags agree: still down");

                network.ip("link", "set", network.tap(0), "up");
                assertEquals(1, card.checkLink());
                assertTrue(card.isLinkUp());
                assertEquals("up", events.get(events.size() - 1));
                network.awaitForwarding(network.tap(0));
                icmpRoundTrip(card, network, nsMac, 3, 100);

                // Fence: nothing is read into guest memory until unfenced; the frame waits in the TAP.
                card.fence();
                assertFalse(card.transmit(0, arp, 79, sink), "a fenced card refuses tx");
                network.pingFromNamespace(network.guestIp(), 64);
                Thread.sleep(300);
                final NetFrame fencedBuffer = rxBuffer(RX_GPA, 1600);
                for (int i = 0; i < 100; i++)
                {
                    assertEquals(0, card.receive(i & 1, fencedBuffer));
                }
                assertEquals(CANARY, memory.getByte(RX_GPA + HDR), "a fenced card wrote nothing");
                card.unfence();
                assertTrue(receiveAny(card, fencedBuffer, 2_000, frame -> isIcmpEchoRequest(frame)) > 0,
                    "after unfence the waiting echo request is read");

                // Deleted: down; created again: re-attached and up.
                network.ip("link", "del", network.tap(0));
                assertEquals(1, card.checkLink());
                assertFalse(card.isLinkUp());
                network.ip("tuntap", "add", "dev", network.tap(0), "mode", "tap", "multi_queue", "vnet_hdr");
                network.ip("link", "set", network.tap(0), "master", network.bridge(), "up");
                assertEquals(1, card.checkLink(), "reattaches=" + card.reattaches() + " " + events);
                assertTrue(card.isLinkUp(), "re-attached after the TAP came back");
                assertEquals(1, card.reattaches());
                network.awaitForwarding(network.tap(0));
                icmpRoundTrip(card, network, arpRoundTrip(card, network), 4, 300);
                System.out.println(card + " tx=" + card.txFrames() + " rx=" + card.rxFrames() + " rxDropped=" +
                    card.rxDropped() + " txErrors=" + card.txErrors() + " events=" + events);
            }
            finally
            {
                card.close();
            }
        }
    }

    private long arpRoundTrip(final TapNetCard card, final TapNetwork network)
    {
        transmitAndComplete(card, txFrame(arpRequest(network), 42), 42);
        final NetFrame rx = rxBuffer(RX_GPA, 1600);
        final int length = receiveAny(card, rx, 5_000, frame -> u16(frame, 12) == 0x0806 && u16(frame, 20) == 2);
        assertTrue(length >= 42, "an ARP reply came back: " + length);
        final byte[] reply = readFrame(RX_GPA, length);
        assertEquals(GUEST_MAC, mac(reply, 0), "to the guest");
        assertEquals(network.namespaceIp(), u32(reply, 28), "from the namespace's address");
        return mac(reply, 22);
    }

    private void icmpRoundTrip(final TapNetCard card, final TapNetwork network, final long nsMac, final int seq, final int payloadLength)
    {
        final byte[] payload = new byte[payloadLength];
        for (int i = 0; i < payload.length; i++)
        {
            payload[i] = (byte)(i * 7 + seq);
        }
        final byte[] frame = new byte[1600];
        final int length = GuestFrames.icmpEcho(frame, GUEST_MAC, nsMac, network.guestIp(), network.namespaceIp(), 0x4242, seq,
            payload, payload.length);
        transmitAndComplete(card, txFrame(frame, length), length);
        final NetFrame rx = rxBuffer(RX_GPA, 1600);
        final int received = receiveAny(card, rx, 5_000, f -> GuestFrames.parseReply(f, f.length, GUEST_MAC, network.guestIp(),
            nsMac, network.namespaceIp()) == GuestFrames.ICMP_REPLY);
        assertTrue(received > 0, "an echo reply came back for seq " + seq);
        final byte[] reply = readFrame(RX_GPA, received);
        final int offset = GuestFrames.payloadOffset(GuestFrames.ICMP_REPLY);
        assertArrayEquals(payload, Arrays.copyOfRange(reply, offset, offset + payloadLength), "payload intact");
        assertEquals(CANARY, memory.getByte(RX_GPA + 11), "the card left the virtio-net header bytes alone");
    }

    private void transmitAndComplete(final TapNetCard card, final NetFrame frame, final int length)
    {
        completions = 0;
        assertTrue(card.transmit(1, frame, 42, sink));
        card.poll(1);
        assertEquals(1, completions);
        assertEquals(42, completion[0]);
        assertEquals(CardStatus.OK, completion[1]);
        assertEquals(length, completion[2]);
    }

    /** Writes the frame after a 12-byte header into guest memory in three segments, the first header plus 5 bytes. */
    private NetFrame txFrame(final byte[] bytes, final int length)
    {
        memory.setMemory(TX_GPA, HDR, (byte)0x77);
        memory.putBytes(TX_GPA + HDR, bytes, 0, 5);
        memory.putBytes(TX_GPA + 0x4000, bytes, 5, 20);
        memory.putBytes(TX_GPA + 0x8000, bytes, 25, length - 25);
        final NetFrame frame = new NetFrame(4);
        frame.data().reset(memory);
        frame.data().add(TX_GPA, HDR + 5);
        frame.data().add(TX_GPA + 0x4000, 20);
        frame.data().add(TX_GPA + 0x8000, length - 25);
        frame.headerSkip(HDR);
        return frame;
    }

    /** A buffer of header plus {@code room} bytes, split after 30 frame bytes, filled with the canary. */
    private NetFrame rxBuffer(final long gpa, final int room)
    {
        memory.setMemory(gpa, 0x10000, CANARY);
        final NetFrame frame = new NetFrame(2);
        frame.data().reset(memory);
        frame.data().add(gpa, HDR + 30);
        frame.data().add(gpa + HDR + 30, room - 30);
        frame.headerSkip(HDR);
        return frame;
    }

    private int receiveAny(final TapNetCard card, final NetFrame buffer, final long timeoutMillis,
        final java.util.function.Predicate<byte[]> wanted)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        final long gpa = buffer.data().address(0);
        while (System.nanoTime() < deadline)
        {
            for (int q = 0; q < card.queueCount(); q++)
            {
                final int length = card.receive(q, buffer);
                if (length < 0)
                {
                    return length;
                }
                if (length > 0 && wanted.test(readFrame(gpa, length)))
                {
                    return length;
                }
            }
            Thread.onSpinWait();
        }
        return 0;
    }

    private byte[] readFrame(final long gpa, final int length)
    {
        final byte[] frame = new byte[length];
        memory.getBytes(gpa + HDR, frame, 0, length);
        return frame;
    }

    private static byte[] arpRequest(final TapNetwork network)
    {
        final byte[] f = new byte[42];
        for (int i = 0; i < 6; i++)
        {
            f[i] = (byte)0xff;
            f[6 + i] = (byte)(GUEST_MAC >>> (40 - 8 * i));
            f[22 + i] = f[6 + i];
        }
        putU16(f, 12, 0x0806);
        putU16(f, 14, 1);
        putU16(f, 16, 0x0800);
        f[18] = 6;
        f[19] = 4;
        putU16(f, 20, 1);
        putU32(f, 28, network.guestIp());
        putU32(f, 38, network.namespaceIp());
        return f;
    }

    private static boolean isIcmpEchoRequest(final byte[] f)
    {
        return f.length > 34 && u16(f, 12) == 0x0800 && f[23] == 1 && f[34] == 8;
    }

    private static long mac(final byte[] f, final int offset)
    {
        long value = 0;
        for (int i = 0; i < 6; i++)
        {
            value = (value << 8) | (f[offset + i] & 0xff);
        }
        return value;
    }

    private static int u16(final byte[] f, final int offset)
    {
        return ((f[offset] & 0xff) << 8) | (f[offset + 1] & 0xff);
    }

    private static int u32(final byte[] f, final int offset)
    {
        return (u16(f, offset) << 16) | u16(f, offset + 2);
    }

    private static void putU16(final byte[] f, final int offset, final int value)
    {
        f[offset] = (byte)(value >>> 8);
        f[offset + 1] = (byte)value;
    }

    private static void putU32(final byte[] f, final int offset, final int value)
    {
        putU16(f, offset, value >>> 16);
        putU16(f, offset + 2, value);
    }
}
