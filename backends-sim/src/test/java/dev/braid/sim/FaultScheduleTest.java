package dev.braid.sim;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(SeedExtension.class)
class FaultScheduleTest
{
    private static final long DURATION = 10_000_000_000L;

    private static List<SimDisk> disks(final VirtualClock clock, final int n)
    {
        final SharedBlockStore store = new SharedBlockStore(8);
        final SimDisk[] disks = new SimDisk[n];
        for (int i = 0; i < n; i++)
        {
            disks[i] = SimDisk.builder("d" + i, store).clock(clock).build();
        }
        return List.of(disks);
    }

    @Test
    void appliesEventsAtTheirVirtualTimes()
    {
        final VirtualClock clock = new VirtualClock();
        final List<SimDisk> disks = disks(clock, 2);
        final FaultSchedule schedule = new FaultSchedule()
            .inject(2_000, disks.get(0), CardFault.LINK_DOWN, 0)
            .heal(5_000, disks.get(0))
            .inject(3_000, disks.get(1), CardFault.FAIL_STOP, 0)
            .rejoin(9_000, disks.get(1));
        final FaultScheduleAgent agent = new FaultScheduleAgent(schedule, clock);
        final DeterministicScheduler scheduler = new DeterministicScheduler(1, clock, 1);
        scheduler.addAgent(agent);
        assertEquals(2_000, scheduler.nextDeadline());
        assertTrue(scheduler.runUntil(() -> disks.get(1).fault() == CardFault.FAIL_STOP, 1_000_000));
        assertEquals(3_000, clock.nanoTime());
        assertFalse(disks.get(0).isLinkUp());
        assertTrue(scheduler.runUntil(agent::isDone, 1_000_000));
        assertEquals(9_000, clock.nanoTime());
        assertTrue(disks.get(0).isLinkUp());
        assertEquals(CardFault.HEALTHY, disks.get(1).fault());
        assertEquals(4, agent.applied());
    }

    @Test
    void randomSchedulesReplayAndKeepOneCardHealthy(final Seed seed)
    {
        final int runs = seed.seeds() / 10;
        final VirtualClock clock = new VirtualClock();
        final List<SimDisk> disks = disks(clock, 3);
        assertEquals(0, FaultSchedule.random(seed.value(), FaultProfile.NONE, DURATION, disks).size());
        for (int r = 0; r < runs; r++)
        {
            final long s = seed.value() + r;
            for (final FaultProfile profile : new FaultProfile[] {FaultProfile.LIGHT, FaultProfile.HEAVY})
            {
                final FaultSchedule a = FaultSchedule.random(s, profile, DURATION, disks);
                final FaultSchedule b = FaultSchedule.random(s, profile, DURATION, disks);
                assertEquals(a.toString(), b.toString(), "seed=" + s);
                final int max = profile == FaultProfile.LIGHT ? 1 : disks.size() - 1;
                final int[] faulted = new int[disks.size()];
                int active = 0;
                long last = 0;
                for (final FaultEvent e : a.events())
                {
                    assertTrue(e.atNanos() >= last && e.atNanos() <= DURATION, "seed=" + s + " " + e);
                    last = e.atNanos();
                    final int i = disks.indexOf(e.target());
                    if (e.action() == FaultAction.INJECT)
                    {
                        assertEquals(0, faulted[i], "seed=" + s + " overlapping faults on one card");
                        faulted[i] = 1;
                        active++;
                    }
                    else
                    {
                        assertEquals(1, faulted[i], "seed=" + s);
                        faulted[i] = 0;
                        active--;
                    }
                    assertTrue(active <= max, "seed=" + s + " too many faulted cards");
                }
                assertEquals(0, active, "seed=" + s + " every fault healed by the end");
            }
        }
        final FaultSchedule x = FaultSchedule.random(seed.value(), FaultProfile.HEAVY, DURATION, disks);
        final FaultSchedule y = FaultSchedule.random(seed.value() + 1, FaultProfile.HEAVY, DURATION, disks);
        assertNotEquals(x.toString(), y.toString());
        assertTrue(x.size() > 10, "heavy means many faults: " + x.size());
    }
}
