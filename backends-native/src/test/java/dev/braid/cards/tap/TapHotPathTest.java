package dev.braid.cards.tap;

import dev.braid.testkit.TapNetwork;
import dev.braid.testkit.guest.GuestFrames;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The TAP card's hot path against a real stack: steady-state tx, poll and rx allocate nothing,
 * and a fence taken while a worker thread reads frames as fast as it can leaves guest memory alone.
 */
class TapHotPathTest
{
    private static final long GUEST_MAC = 0x02B7A1000030L;
    private static final int HDR = 12;

    private final GuestMemory memory = GuestMemory.allocate(1 << 20);

    @BeforeEach
    void peers()
    {
        TapNetwork.requirePeers();
    }

    @Test
    void steadyStateFramesAllocateNothing() throws Exception
    {
        try (TapNetwork network = TapNetwork.create(1))
        {
            network.staticNeighbour(network.guestIp(), GUEST_MAC);
            final TapNetCard card = new TapNetCard(new TapCardContext().spec("tap:" + network.tap(0)).queueCount(2));
            try
            {
                network.awaitForwarding(network.tap(0));
                final byte[] bytes = new byte[1600];
                final byte[] payload = new byte[64];
                final int length = GuestFrames.icmpEcho(bytes, GUEST_MAC, network.namespaceMac(), network.guestIp(),
                    network.namespaceIp(), 7, 1, payload, payload.length);
                memory.putBytes(0x1000 + HDR, bytes, 0, length);
                final NetFrame tx = new NetFrame(2);
                tx.data().reset(memory);
                tx.data().add(0x1000, HDR + length);
                tx.headerSkip(HDR);
                final NetFrame rx = new NetFrame(2);
                rx.data().reset(memory);
                rx.data().add(0x8000, HDR + 1514);
                rx.headerSkip(HDR);
                final long[] counts = new long[2];
                final CompletionSink sink = (token, status, len) ->
                {
                    counts[status == CardStatus.OK ? 0 : 1]++;
                    return true;
                };
                final long[] received = new long[1];
                exchange(card, tx, rx, sink, received, 2_000);
                final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
                final long before = threads.getCurrentThreadAllocatedBytes();
                final int frames = 5_000;
                exchange(card, tx, rx, sink, received, frames);
                final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                System.out.println("TAP hot path: " + frames + " echo round trips, " + allocated + " bytes allocated, " +
                    "completions ok=" + counts[0] + " failed=" + counts[1] + " replies=" + received[0]);
                assertEquals(0, counts[1], "no tx failed");
                assertTrue(received[0] >= frames, "every echo came back");
                assertTrue(allocated < frames, "under one byte per frame on average: " + allocated);
            }
            finally
            {
                card.close();
            }
        }
    }

    /** Sends {@code frames} echo requests, one at a time, and waits for each reply. */
    private static void exchange(final TapNetCard card, final NetFrame tx, final NetFrame rx, final CompletionSink sink,
        final long[] received, final int frames)
    {
        for (int i = 0; i < frames; i++)
        {
            assertTrue(card.transmit(0, tx, i, sink));
            card.poll(0);
            final long deadline = System.nanoTime() + 2_000_000_000L;
            final long target = received[0] + 1;
            while (received[0] < target && System.nanoTime() < deadline)
            {
                for (int q = 0; q < 2; q++)
                {
                    if (card.receive(q, rx) > 0)
                    {
                        received[0]++;
                    }
                }
            }
            if (received[0] < target)
            {
                fail("no echo reply within 2 s for request " + i);
            }
        }
    }

    @Test
    void noByteReachesGuestMemoryAfterFenceReturns() throws Exception
    {
        try (TapNetwork network = TapNetwork.create(1))
        {
            network.staticNeighbour(network.guestIp(), GUEST_MAC);
            final TapNetCard card = new TapNetCard(new TapCardContext().spec("tap:" + network.tap(0)).queueCount(1));
            network.awaitForwarding(network.tap(0));
            final NetFrame rx = new NetFrame(1);
            rx.data().reset(memory);
            rx.data().add(0x8000, HDR + 1514);
            rx.headerSkip(HDR);
            final AtomicBoolean running = new AtomicBoolean(true);
            final AtomicLong frames = new AtomicLong();
            final AtomicLong framesWhileFenced = new AtomicLong();
            final Thread worker = new Thread(() ->
            {
                while (running.get())
                {
                    // Fenced before and after the call: a frame read just before a fence (or just after
                    // the unfence) is no violation; the memory check below covers the bytes either way.
                    final boolean fencedBefore = card.isFenced();
                    final int length = card.receive(0, rx);
                    if (length > 0)
                    {
                        frames.incrementAndGet();
                        if (fencedBefore && card.isFenced())
                        {
                            framesWhileFenced.incrementAndGet();
                        }
                    }
                }
            }, "tap-worker");
            worker.start();
            try
            {
                network.startInNamespace("ping", "-i", "0.002", "-s", "1000", "-c", "5000", TapNetwork.ipString(network.guestIp()));
                int rounds = 0;
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (rounds < 20 && System.nanoTime() < deadline)
                {
                    final long seen = frames.get();
                    while (frames.get() < seen + 5 && System.nanoTime() < deadline)
                    {
                        Thread.sleep(1);
                    }
                    card.fence();
                    memory.setMemory(0x8000, HDR + 1514, (byte)0x5A);
                    Thread.sleep(30);
                    for (int i = 0; i < HDR + 1514; i++)
                    {
                        assertEquals((byte)0x5A, memory.getByte(0x8000 + i), "byte " + i + " written after fence, round " + rounds);
                    }
                    card.unfence();
                    rounds++;
                }
                assertEquals(20, rounds, "frames kept coming between fences: " + frames.get());
                assertEquals(0, framesWhileFenced.get(), "no frame was received while fenced");
                System.out.println("fence rounds=" + rounds + " frames=" + frames.get());
            }
            finally
            {
                running.set(false);
                worker.join(5_000);
                card.close();
            }
        }
    }
}
