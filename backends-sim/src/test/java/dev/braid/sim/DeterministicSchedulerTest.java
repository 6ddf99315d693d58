package dev.braid.sim;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(SeedExtension.class)
class DeterministicSchedulerTest
{
    /** A tiny guest: keeps every queue of every disk full of random reads and writes. */
    static final class Driver implements Agent
    {
        final SimDisk[] disks;
        final SplittableRandom rng;
        final GuestMemory memory = GuestMemory.allocate(1 << 20);
        final BlockIo[] ios = new BlockIo[256];
        final boolean[] busy = new boolean[256];
        long completions;
        long hash = 17;

        Driver(final SimDisk[] disks, final long seed)
        {
            this.disks = disks;
            this.rng = new SplittableRandom(seed);
            for (int i = 0; i < ios.length; i++)
            {
                ios[i] = new BlockIo(1);
            }
        }

        public int doWork()
        {
            int work = 0;
            for (int i = 0; i < ios.length; i++)
            {
                if (!busy[i] && rng.nextInt(4) == 0)
                {
                    final BlockIo io = ios[i];
                    io.data().reset(memory);
                    io.data().add(i * 4096L, 4096);
                    io.set(rng.nextBoolean() ? BlockIo.READ : BlockIo.WRITE, rng.nextLong(0, 120));
                    final SimDisk disk = disks[rng.nextInt(disks.length)];
                    final int slot = i;
                    if (disk.submit(rng.nextInt(disk.queueCount()), io, i, (token, status, length) ->
                    {
                        busy[slot] = false;
                        completions++;
                        hash = hash * 31 + token * 7 + status;
                        return true;
                    }))
                    {
                        busy[i] = true;
                        work++;
                    }
                }
            }
            return work;
        }

        public String roleName()
        {
            return "driver";
        }
    }

    private static long[] run(final long seed)
    {
        final VirtualClock clock = new VirtualClock();
        final SharedBlockStore store = new SharedBlockStore(128);
        final SimDisk[] disks = new SimDisk[3];
        final DeterministicScheduler scheduler = new DeterministicScheduler(seed, clock);
        for (int i = 0; i < disks.length; i++)
        {
            disks[i] = SimDisk.builder("d" + i, store).clock(clock).queues(2, 8).seed(seed + i)
                .latency(LatencyModel.logNormal(20_000, 0.5, 0.01, 20, 10_000_000)).build();
            scheduler.addAgent(new CardPoller(disks[i]));
        }
        final Driver driver = new Driver(disks, seed);
        scheduler.addAgent(driver);
        assertTrue(scheduler.runUntil(() -> driver.completions >= 2_000, 10_000_000_000L), "seed=" + seed);
        return new long[] {scheduler.traceHash(), driver.hash, clock.nanoTime(), scheduler.steps(), store.lastVersion()};
    }

    @Test
    void sameSeedReplaysExactlyAndDifferentSeedsDiffer(final Seed seed)
    {
        final long[] first = run(seed.value());
        final long[] second = run(seed.value());
        assertEquals(first[0], second[0], "trace hash, seed=" + seed.value());
        assertEquals(first[1], second[1], "completion order, seed=" + seed.value());
        assertEquals(first[2], second[2], "virtual end time, seed=" + seed.value());
        assertEquals(first[3], second[3], "steps, seed=" + seed.value());
        assertEquals(first[4], second[4], "writes, seed=" + seed.value());
        final long[] other = run(seed.value() + 1);
        assertNotEquals(first[0], other[0], seed.toString());
        assertNotEquals(first[1], other[1], seed.toString());
    }

    @Test
    void idleRoundJumpsTheClockToTheNextDeadline()
    {
        final VirtualClock clock = new VirtualClock();
        final List<Long> fired = new ArrayList<>();
        final long[] deadlines = {5_000_000, 7_000_000, 3_000_000_000L};
        final int[] next = {0};
        final class Timer implements Agent, TimerSource
        {
            public int doWork()
            {
                if (next[0] < deadlines.length && clock.nanoTime() >= deadlines[next[0]])
                {
                    fired.add(clock.nanoTime());
                    next[0]++;
                    return 1;
                }
                return 0;
            }

            public String roleName()
            {
                return "timer";
            }

            public long nextEventNanos()
            {
                return next[0] < deadlines.length ? deadlines[next[0]] : NONE;
            }
        }
        final DeterministicScheduler scheduler = new DeterministicScheduler(1, clock);
        scheduler.addAgent(new Timer());
        scheduler.addAgent(new Agent()
        {
            public int doWork()
            {
                return 0;
            }

            public String roleName()
            {
                return "idle";
            }
        });
        assertTrue(scheduler.runUntil(() -> fired.size() == 2, 1_000_000_000L));
        assertEquals(List.of(5_000_000L, 7_000_000L), fired);
        assertTrue(scheduler.steps() < 20, "no spinning: " + scheduler.steps());

        assertFalse(scheduler.runUntil(() -> fired.size() == 3, 1_000_000_000L), "deadline beyond the limit");
        assertEquals(1_007_000_000L, clock.nanoTime(), "clock stops at the limit");
        assertTrue(scheduler.runUntil(() -> fired.size() == 3, 5_000_000_000L));
        assertEquals(3_000_000_000L, clock.nanoTime());
        assertFalse(scheduler.runUntil(() -> false, 1_000_000_000L), "quiescent: nothing can happen");
        assertEquals(3_000_000_000L, clock.nanoTime());
        scheduler.close();
    }

    @Test
    void runForAdvancesExactly()
    {
        final VirtualClock clock = new VirtualClock(100);
        final DeterministicScheduler scheduler = new DeterministicScheduler(2, clock);
        final SharedBlockStore store = new SharedBlockStore(8);
        final SimDisk disk = SimDisk.builder("d", store).clock(clock).latency(LatencyModel.fixed(1_000_000)).build();
        scheduler.addAgent(new CardPoller(disk));
        final RecordingSink sink = new RecordingSink(clock);
        final BlockIo flush = new BlockIo(1);
        flush.setRange(BlockIo.FLUSH, 0, 0);
        assertTrue(disk.submit(0, flush, 9, sink));
        scheduler.runFor(10_000_000);
        assertEquals(10_000_100, clock.nanoTime());
        assertEquals(1, sink.size());
        assertEquals(1_000_100, sink.last().atNanos());
        assertEquals(CardStatus.OK, sink.last().status());
    }

    @Test
    void agentFailureNamesTheSeed()
    {
        final DeterministicScheduler scheduler = new DeterministicScheduler(42, new VirtualClock());
        scheduler.addAgent(new Agent()
        {
            public int doWork()
            {
                throw new IllegalStateException("boom");
            }

            public String roleName()
            {
                return "bad";
            }
        });
        final IllegalStateException ex = assertThrows(IllegalStateException.class, scheduler::step);
        assertTrue(ex.getMessage().contains("seed=42"), ex.getMessage());
    }

    @Test
    void virtualClockOnlyMovesForward()
    {
        final VirtualClock clock = new VirtualClock(10);
        clock.advanceTo(5);
        assertEquals(10, clock.nanoTime());
        clock.advanceBy(5);
        assertEquals(15, clock.nanoTime());
        clock.advanceBy(Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE, clock.nanoTime());
        assertThrows(IllegalArgumentException.class, () -> clock.advanceBy(-1));
    }
}
