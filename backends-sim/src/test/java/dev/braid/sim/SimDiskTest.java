package dev.braid.sim;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SimDiskTest
{
    private static final long SECTORS = 256;
    private static final long MICRO = 1_000;

    private final VirtualClock clock = new VirtualClock();
    private final List<String> events = new ArrayList<>();
    private SharedBlockStore store;
    private GuestMemory memory;
    private RecordingSink sink;

    @BeforeEach
    void setUp()
    {
        store = new SharedBlockStore(SECTORS);
        memory = GuestMemory.allocate(1 << 20);
        sink = new RecordingSink(clock);
    }

    private SimDisk disk(final String name, final LatencyModel latency, final int depth)
    {
        final SimDisk disk = SimDisk.builder(name, store).clock(clock).latency(latency).queues(2, depth).seed(7).build();
        disk.setEventListener(new CardEventListener()
        {
            public void onLinkChange(final Card card, final boolean up)
            {
                events.add(card.name() + (up ? " up" : " down"));
            }

            public void onCardError(final Card card, final int code)
            {
                events.add(card.name() + " error " + code);
            }
        });
        return disk;
    }

    /** A read or write over two guest segments at {@code gpa} (split unevenly across the sector). */
    private BlockIo io(final int operation, final long sector, final long gpa, final int bytes)
    {
        final BlockIo io = new BlockIo(4);
        io.data().reset(memory);
        final int first = Math.min(bytes, 700);
        io.data().add(gpa, first);
        if (bytes > first)
        {
            io.data().add(gpa + 0x10000, bytes - first);
        }
        io.set(operation, sector);
        return io;
    }

    private byte[] guest(final long gpa, final int bytes)
    {
        final byte[] out = new byte[bytes];
        final int first = Math.min(bytes, 700);
        memory.getBytes(gpa, out, 0, first);
        if (bytes > first)
        {
            memory.getBytes(gpa + 0x10000, out, first, bytes - first);
        }
        return out;
    }

    private void fillGuest(final long gpa, final int bytes, final int seed)
    {
        final byte[] data = new byte[bytes];
        for (int i = 0; i < bytes; i++)
        {
            data[i] = (byte)(seed * 31 + i);
        }
        final int first = Math.min(bytes, 700);
        memory.putBytes(gpa, data, 0, first);
        if (bytes > first)
        {
            memory.putBytes(gpa + 0x10000, data, first, bytes - first);
        }
    }

    private byte[] storeBytes(final long sector, final int bytes)
    {
        final byte[] out = new byte[bytes];
        store.data().getBytes((int)(sector * 512), out);
        return out;
    }

    @Test
    void readAfterWriteThroughGuestMemory()
    {
        final SimDisk disk = disk("d0", LatencyModel.fixed(10 * MICRO), 8);
        fillGuest(0x1000, 2048, 5);
        final byte[] written = guest(0x1000, 2048);
        assertTrue(disk.submit(0, io(BlockIo.WRITE, 10, 0x1000, 2048), 1, sink));
        clock.advanceBy(10 * MICRO);
        assertEquals(1, disk.poll(0));
        assertEquals(new RecordingSink.Completion(1, CardStatus.OK, 2048, 10 * MICRO), sink.last());
        assertArrayEquals(written, storeBytes(10, 2048));

        assertTrue(disk.submit(1, io(BlockIo.READ, 10, 0x40000, 2048), 2, sink));
        clock.advanceBy(10 * MICRO);
        assertEquals(1, disk.poll(1));
        assertEquals(CardStatus.OK, sink.last().status());
        assertEquals(2048, sink.last().length());
        assertArrayEquals(written, guest(0x40000, 2048));
        assertEquals(2, disk.completed());
        assertEquals(4096, disk.bytes());
        assertEquals(0, disk.errors());
    }

    @Test
    void versionsAreGlobalAcrossDisksAndMonotonic()
    {
        final SimDisk a = disk("a", LatencyModel.ZERO, 8);
        final SimDisk b = disk("b", LatencyModel.ZERO, 8);
        assertTrue(a.submit(0, io(BlockIo.WRITE, 0, 0x1000, 1024), 1, sink));
        a.poll(0);
        assertTrue(b.submit(0, io(BlockIo.WRITE, 1, 0x1000, 1024), 2, sink));
        b.poll(0);
        assertEquals(1, store.version(0));
        assertEquals(2, store.version(1));
        assertEquals(2, store.version(2));
        assertEquals(0, store.version(3));
        final BlockIo zeroes = new BlockIo(1);
        zeroes.setRange(BlockIo.WRITE_ZEROES, 2, 2);
        assertTrue(a.submit(1, zeroes, 3, sink));
        a.poll(1);
        assertEquals(2, store.version(1));
        assertEquals(3, store.version(2));
        assertEquals(3, store.version(3));
        assertEquals(3, store.lastVersion());
    }

    @Test
    void dataMovesAtCompletionTimeNotAtSubmit()
    {
        final SimDisk disk = disk("d0", LatencyModel.fixed(50 * MICRO), 8);
        store.data().setMemory(0, 512, (byte)0x5A);
        fillGuest(0x2000, 512, 9);
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x8000, 512), 1, sink));
        assertTrue(disk.submit(0, io(BlockIo.WRITE, 4, 0x2000, 512), 2, sink));

        clock.advanceBy(50 * MICRO - 1);
        assertEquals(0, disk.poll(0));
        assertEquals(0, sink.size());
        assertArrayEquals(new byte[512], guest(0x8000, 512));
        assertArrayEquals(new byte[512], storeBytes(4, 512));
        assertEquals(50 * MICRO, disk.nextEventNanos());

        clock.advanceBy(1);
        assertEquals(2, disk.poll(0));
        assertEquals((byte)0x5A, memory.getByte(0x8000));
        assertArrayEquals(guest(0x2000, 512), storeBytes(4, 512));
        assertEquals(TimerSource.NONE, disk.nextEventNanos());
    }

    @Test
    void completesInDueOrderNotSubmitOrder()
    {
        final long[] latencies = {30 * MICRO, 10 * MICRO, 20 * MICRO};
        final int[] call = {0};
        final SimDisk disk = disk("d0", (op, bytes, rng) -> latencies[call[0]++], 8);
        for (int i = 0; i < 3; i++)
        {
            final BlockIo flush = new BlockIo(1);
            flush.setRange(BlockIo.FLUSH, 0, 0);
            assertTrue(disk.submit(0, flush, i, sink));
        }
        clock.advanceBy(100 * MICRO);
        assertEquals(3, disk.poll(0));
        assertEquals(1, sink.get(0).token());
        assertEquals(2, sink.get(1).token());
        assertEquals(0, sink.get(2).token());
    }

    @Test
    void queueDepthBackpressure()
    {
        final SimDisk disk = disk("d0", LatencyModel.fixed(MICRO), 4);
        for (int i = 0; i < 4; i++)
        {
            assertTrue(disk.submit(0, io(BlockIo.READ, i, 0x1000, 512), i, sink));
        }
        assertFalse(disk.submit(0, io(BlockIo.READ, 5, 0x1000, 512), 5, sink));
        assertTrue(disk.submit(1, io(BlockIo.READ, 5, 0x1000, 512), 5, sink), "queues are independent");
        assertEquals(4, disk.inFlight(0));
        assertEquals(1, disk.rejected());
        clock.advanceBy(MICRO);
        assertEquals(4, disk.poll(0));
        assertTrue(disk.submit(0, io(BlockIo.READ, 5, 0x1000, 512), 6, sink));
        assertEquals(6, disk.submitted());
    }

    @Test
    void invalidAndUnsupportedRequests()
    {
        final SimDisk disk = disk("d0", LatencyModel.fixed(MICRO), 8);
        assertTrue(disk.submit(0, io(BlockIo.READ, SECTORS - 1, 0x1000, 1024), 1, sink));
        assertTrue(disk.submit(0, io(BlockIo.WRITE, -1, 0x1000, 512), 2, sink));
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 100), 3, sink));
        final BlockIo discard = new BlockIo(1);
        discard.setRange(BlockIo.DISCARD, SECTORS - 2, 3);
        assertTrue(disk.submit(0, discard, 4, sink));
        final BlockIo odd = new BlockIo(1);
        odd.setRange(42, 0, 1);
        assertTrue(disk.submit(0, odd, 5, sink));
        assertEquals(5, disk.poll(0), "invalid requests complete at once");
        for (int i = 0; i < 4; i++)
        {
            assertEquals(CardStatus.INVALID, sink.get(i).status());
            assertEquals(0, sink.get(i).length());
        }
        assertEquals(CardStatus.UNSUPPORTED, sink.get(4).status());
        assertEquals(5, disk.errors());
        assertEquals(0, store.lastVersion());
    }

    @Test
    void discardWriteZeroesAndFlush()
    {
        final SimDisk disk = disk("d0", LatencyModel.ZERO, 8);
        store.data().setMemory(0, (int)(SECTORS * 512), (byte)0x77);
        final BlockIo discard = new BlockIo(1);
        discard.setRange(BlockIo.DISCARD, 3, 2);
        final BlockIo flush = new BlockIo(1);
        flush.setRange(BlockIo.FLUSH, 0, 0);
        assertTrue(disk.submit(0, discard, 1, sink));
        assertTrue(disk.submit(0, flush, 2, sink));
        assertEquals(2, disk.poll(0));
        assertEquals(CardStatus.OK, sink.get(0).status());
        assertEquals(CardStatus.OK, sink.get(1).status());
        assertEquals((byte)0x77, store.data().getByte(3 * 512 - 1));
        assertArrayEquals(new byte[1024], storeBytes(3, 1024));
        assertEquals((byte)0x77, store.data().getByte(5 * 512));
        assertEquals(1, store.version(3));
        assertEquals(1, store.version(4));
        assertEquals(0, store.version(5));
    }

    @Test
    void sinkRefusalIsRetried()
    {
        final SimDisk disk = disk("d0", LatencyModel.ZERO, 8);
        store.data().setMemory(0, 512, (byte)1);
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 1, sink));
        sink.refuse = true;
        assertEquals(0, disk.poll(0));
        assertEquals((byte)1, memory.getByte(0x1000), "data moved once");
        store.data().setMemory(0, 512, (byte)2);
        sink.refuse = false;
        assertEquals(1, disk.poll(0));
        assertEquals(512, sink.last().length());
        assertEquals((byte)1, memory.getByte(0x1000), "not moved again on retry");
        assertEquals(1, disk.completed());
    }

    @Test
    void fenceCancelsPendingWithoutTouchingGuestMemory()
    {
        final SimDisk disk = disk("d0", LatencyModel.fixed(100 * MICRO), 8);
        store.data().setMemory(0, 4096, (byte)0x33);
        fillGuest(0x3000, 1024, 3);
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 1024), 1, sink));
        assertTrue(disk.submit(1, io(BlockIo.WRITE, 4, 0x3000, 1024), 2, sink));
        disk.fence();
        assertTrue(disk.isFenced());
        assertFalse(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 3, sink));

        clock.advanceBy(1_000 * MICRO);
        assertTrue(disk.poll(0) > 0);
        assertTrue(disk.poll(1) > 0);
        assertEquals(2, sink.size());
        assertEquals(CardStatus.CANCELLED, sink.get(0).status());
        assertEquals(0, sink.get(0).length());
        assertEquals(CardStatus.CANCELLED, sink.get(1).status());
        assertArrayEquals(new byte[1024], guest(0x1000, 1024), "no late read DMA");
        assertEquals((byte)0x33, store.data().getByte(4 * 512), "no late write");
        assertEquals(0, store.lastVersion());

        disk.unfence();
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 4, sink));
        clock.advanceBy(100 * MICRO);
        assertEquals(1, disk.poll(0));
        assertEquals(CardStatus.OK, sink.last().status());
        assertEquals((byte)0x33, memory.getByte(0x1000));
    }

    @Test
    void fenceFromInsideACompletionStopsTheRestOfThePoll()
    {
        final SimDisk disk = disk("d0", LatencyModel.ZERO, 8);
        store.data().setMemory(0, 4096, (byte)0x44);
        final RecordingSink fencing = new RecordingSink(clock)
        {
            public boolean complete(final long token, final int status, final int length)
            {
                disk.fence();
                return super.complete(token, status, length);
            }
        };
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 1, fencing));
        assertTrue(disk.submit(0, io(BlockIo.READ, 1, 0x20000, 512), 2, fencing));
        assertTrue(disk.poll(0) >= 2);
        assertEquals(2, fencing.size());
        assertEquals(CardStatus.OK, fencing.get(0).status());
        assertEquals(CardStatus.CANCELLED, fencing.get(1).status());
        assertEquals(0, memory.getByte(0x20000));
    }

    @Test
    void fenceWaitsForAConcurrentPoll() throws Exception
    {
        // A queue thread submits and polls reads as fast as it can; once fence() returns on this
        // thread, the guest buffer must never change again.
        final SimDisk disk = SimDisk.builder("d0", store).clock(clock).queues(1, 64).build();
        store.data().setMemory(0, (int)(SECTORS * 512), (byte)0x66);
        final BlockIo[] ios = new BlockIo[64];
        for (int i = 0; i < ios.length; i++)
        {
            ios[i] = new BlockIo(1);
            ios[i].data().reset(memory);
            ios[i].data().add(0x1000, 4096);
            ios[i].set(BlockIo.READ, 0);
        }
        final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        final java.util.concurrent.atomic.AtomicLong cycles = new java.util.concurrent.atomic.AtomicLong();
        final Thread worker = new Thread(() ->
        {
            int next = 0;
            while (!stop.get())
            {
                // Tokens are never reused while in flight: depth 64, 64 ios, round robin after completion.
                while (disk.submit(0, ios[next], next, (token, status, length) -> true))
                {
                    next = (next + 1) & 63;
                }
                disk.poll(0);
                cycles.incrementAndGet();
            }
        });
        worker.start();
        while (cycles.get() < 1000)
        {
            Thread.onSpinWait();
        }
        disk.fence();
        memory.setMemory(0x1000, 4096, (byte)0);
        final long seen = cycles.get();
        while (cycles.get() < seen + 1000)
        {
            Thread.onSpinWait();
        }
        stop.set(true);
        worker.join(10_000);
        final byte[] buffer = new byte[4096];
        memory.getBytes(0x1000, buffer, 0, 4096);
        assertArrayEquals(new byte[4096], buffer);
        assertTrue(disk.completed() > 0);
    }

    @Test
    void zombieDeliversStaleCompletionsLateWithoutDma()
    {
        final SimDisk disk = disk("z", LatencyModel.fixed(10 * MICRO), 8);
        store.data().setMemory(0, 4096, (byte)0x21);
        fillGuest(0x3000, 512, 4);
        disk.inject(CardFault.ZOMBIE, 500 * MICRO);
        assertTrue(disk.isLinkUp());
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 1024), 1, sink));
        assertTrue(disk.submit(0, io(BlockIo.WRITE, 6, 0x3000, 512), 2, sink));
        disk.fence();

        clock.advanceBy(10 * MICRO);
        assertEquals(2, disk.poll(0), "the poll turns both stale");
        assertEquals(0, sink.size());
        assertEquals(510 * MICRO, disk.nextEventNanos());
        clock.advanceTo(510 * MICRO - 1);
        assertEquals(0, disk.poll(0));
        clock.advanceTo(510 * MICRO);
        assertEquals(2, disk.poll(0));
        assertEquals(new RecordingSink.Completion(1, CardStatus.OK, 1024, 510 * MICRO), sink.get(0));
        assertEquals(new RecordingSink.Completion(2, CardStatus.OK, 512, 510 * MICRO), sink.get(1));
        assertArrayEquals(new byte[1024], guest(0x1000, 1024), "stale read moved no data");
        assertEquals((byte)0x21, store.data().getByte(6 * 512), "stale write moved no data");
        assertEquals(0, store.lastVersion());
        assertEquals(0, disk.bytes());
    }

    @Test
    void failStopRefusesAndNeverCompletesThenRebootsOnHeal()
    {
        final SimDisk disk = disk("f", LatencyModel.fixed(10 * MICRO), 8);
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 1, sink));
        disk.inject(CardFault.FAIL_STOP, 0);
        assertFalse(disk.isLinkUp());
        assertEquals(List.of("f down"), events);
        assertFalse(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 2, sink));
        assertEquals(TimerSource.NONE, disk.nextEventNanos());
        clock.advanceBy(1_000_000_000L);
        assertEquals(0, disk.poll(0));
        assertEquals(0, sink.size());

        disk.heal();
        assertTrue(disk.isLinkUp());
        assertEquals(List.of("f down", "f up"), events);
        assertEquals(1, disk.poll(0), "held request dropped by the reboot");
        assertEquals(0, sink.size());
        assertEquals(0, disk.inFlight(0));
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 3, sink));
        clock.advanceBy(10 * MICRO);
        assertEquals(1, disk.poll(0));
        assertEquals(3, sink.last().token());
    }

    @Test
    void linkDownFailsHeldAndNewWorkThenComesBack()
    {
        final SimDisk disk = disk("l", LatencyModel.fixed(10 * MICRO), 8);
        store.data().setMemory(0, 512, (byte)9);
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 1, sink));
        disk.inject(CardFault.LINK_DOWN, 200 * MICRO);
        assertFalse(disk.isLinkUp());
        assertEquals(clock.nanoTime(), disk.nextEventNanos());
        assertEquals(1, disk.poll(0));
        assertEquals(CardStatus.IO_ERROR, sink.last().status());
        assertEquals(0, memory.getByte(0x1000));

        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 2, sink));
        assertEquals(1, disk.poll(0));
        assertEquals(CardStatus.IO_ERROR, sink.last().status());
        assertEquals(200 * MICRO, disk.nextEventNanos());

        clock.advanceTo(200 * MICRO);
        assertEquals(1, disk.poll(1), "any queue's poll brings the link back");
        assertTrue(disk.isLinkUp());
        assertEquals(CardFault.HEALTHY, disk.fault());
        assertEquals(List.of("l down", "l up"), events);
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 3, sink));
        clock.advanceBy(10 * MICRO);
        assertEquals(1, disk.poll(0));
        assertEquals(CardStatus.OK, sink.last().status());
        assertEquals(9, memory.getByte(0x1000));
        assertEquals(2, disk.errors());
    }

    @Test
    void hangHoldsEverythingUntilHealed()
    {
        final SimDisk disk = disk("h", LatencyModel.fixed(10 * MICRO), 8);
        disk.inject(CardFault.HANG, 0);
        assertTrue(disk.isLinkUp());
        assertTrue(events.isEmpty());
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 1, sink));
        clock.advanceBy(1_000_000 * MICRO);
        assertEquals(0, disk.poll(0));
        assertEquals(TimerSource.NONE, disk.nextEventNanos());
        disk.heal();
        assertEquals(1, disk.poll(0));
        assertEquals(CardStatus.OK, sink.last().status());
        assertEquals(clock.nanoTime(), sink.last().atNanos());
    }

    @Test
    void slowMultipliesLatency()
    {
        final SimDisk disk = disk("s", LatencyModel.fixed(10 * MICRO), 8);
        disk.inject(CardFault.SLOW, 7);
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 1, sink));
        assertEquals(70 * MICRO, disk.nextEventNanos());
        clock.advanceTo(70 * MICRO - 1);
        assertEquals(0, disk.poll(0));
        clock.advanceTo(70 * MICRO);
        assertEquals(1, disk.poll(0));
        disk.heal();
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 2, sink));
        assertEquals(80 * MICRO, disk.nextEventNanos());
    }

    @Test
    void errorBurstFailsTheNextNRequests()
    {
        final SimDisk disk = disk("e", LatencyModel.fixed(10 * MICRO), 8);
        store.data().setMemory(0, 512, (byte)3);
        disk.inject(CardFault.ERROR_BURST, 3);
        for (int i = 0; i < 5; i++)
        {
            assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000 + i * 0x100000L / 32, 512), i, sink));
        }
        assertEquals(CardFault.HEALTHY, disk.fault(), "burst spent");
        clock.advanceBy(10 * MICRO);
        assertEquals(5, disk.poll(0));
        for (int i = 0; i < 5; i++)
        {
            assertEquals(i < 3 ? CardStatus.IO_ERROR : CardStatus.OK, sink.get(i).status(), "request " + i);
        }
        assertEquals(0, memory.getByte(0x1000), "failed requests moved no data");
        assertEquals(3, disk.errors());
        assertEquals(1024, disk.bytes());
    }

    @Test
    void rejoinHealsAndLeavesTheFenceToItsOwner()
    {
        final SimDisk disk = disk("r", LatencyModel.ZERO, 8);
        disk.inject(CardFault.FAIL_STOP, 0);
        disk.fence();
        disk.rejoin();
        assertTrue(disk.isFenced(), "the fence is the aggregator's to lift");
        assertTrue(disk.isLinkUp());
        assertEquals(CardFault.HEALTHY, disk.fault());
        assertFalse(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 1, sink), "fenced: refused");
        disk.unfence();
        assertTrue(disk.submit(0, io(BlockIo.READ, 0, 0x1000, 512), 1, sink));
        assertEquals(1, disk.poll(0));
        assertEquals(CardStatus.OK, sink.last().status());
    }
}
