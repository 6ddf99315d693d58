package dev.braid.perf.aggregator;

import dev.braid.sim.CardFault;
import dev.braid.sim.VirtualClock;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The benchmark loops deliver what they claim; nothing here starts JMH. */
class AggregatorBenchRigTest
{
    private static long run(final Agent[] agents, final LeanBlkGuest guest, final int rounds) throws Exception
    {
        for (int r = 0; r < rounds; r++)
        {
            for (final Agent agent : agents)
            {
                agent.doWork();
            }
        }
        return guest.completed();
    }

    @Test
    void directAndAggregatedLoopsCompleteEveryRequestWithoutErrors() throws Exception
    {
        for (final int cards : new int[] {0, 1, 4})
        {
            final BlkBenchRig.Options options = new BlkBenchRig.Options();
            options.cards = Math.max(1, cards);
            options.clock = new VirtualClock(1_000_000);
            final BlkBenchRig rig = new BlkBenchRig(options);
            final Agent[] agents = cards == 0 ? new Agent[] {rig.guest, rig.direct()} :
                BlkBenchRig.loop(rig.guest, rig.aggregated().agents());
            final long completed = run(agents, rig.guest, 1_000);
            assertTrue(completed > 10_000, "cards=" + cards + " completed " + completed);
            assertEquals(0, rig.guest.errors(), "cards=" + cards);
            assertEquals(completed * 4096, rig.guest.bytes());
            for (int i = 0; i < options.cards; i++)
            {
                assertTrue(rig.disks[i].completed() > 0, "card " + i + " served");
            }
        }
    }

    @Test
    void virtualTimeThroughputFollowsTheCardCaps()
    {
        final BlkBenchRig.Options options = new BlkBenchRig.Options();
        options.cards = 2;
        options.requestBytes = 64 * 1024;
        options.bandwidth = i -> dev.braid.sim.BandwidthCap.bytesPerSecond(100_000_000L, 64 * 1024);
        final VirtualTimeLoop loop = new VirtualTimeLoop(3, options);
        loop.scheduler.runFor(10_000_000L);
        final long before = loop.rig.guest.bytes();
        loop.scheduler.runFor(100_000_000L);
        final double mbps = (loop.rig.guest.bytes() - before) / 100.0 / 1_000;
        assertEquals(200, mbps, 5, "two cards of 100 MB/s");
    }

    @Test
    void signalledFailoverStallIsMeasuredFromTheFault()
    {
        final long stall = FailoverStall.virtualTrial(5, CardFault.LINK_DOWN, 5_000_000);
        assertTrue(stall > 0 && stall < 1_000_000, "stall " + stall);
        final long hang = FailoverStall.virtualTrial(5, CardFault.HANG, 5_000_000);
        assertTrue(hang > 5_000_000 && hang < 6_000_000, "hang stall " + hang);
    }
}
