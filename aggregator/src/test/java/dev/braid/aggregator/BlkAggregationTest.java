package dev.braid.aggregator;

import dev.braid.sim.CardFault;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class BlkAggregationTest
{
    private static BlkRig rig(final long seed, final int cards)
    {
        final BlkRig.Options options = new BlkRig.Options();
        options.cards = cards;
        System.out.println("seed=" + seed + " cards=" + cards);
        return new BlkRig(seed, options);
    }

    @Test
    void twoCardsServeOneQueueWithoutFaults()
    {
        final BlkRig rig = rig(42, 2);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants();
        assertTrue(rig.disks[0].completed() > 0 && rig.disks[1].completed() > 0, "both cards served");
    }

    @Test
    void failStopIsInvisibleToTheGuest()
    {
        final BlkRig rig = rig(7, 3);
        rig.faults.inject(300_000, rig.disks[0], CardFault.FAIL_STOP, 0);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants();
        assertTrue(rig.device.frontQueue(0).stats().get(QueueStats.REPLAYED) > 0, "requests were replayed");
        assertTrue(rig.device.failovers().lastStallNanos(0) > 0, "a stall was measured");
    }

    @Test
    void hangIsDetectedByTimeoutAndInvisible()
    {
        final BlkRig rig = rig(9, 2);
        rig.faults.inject(300_000, rig.disks[0], CardFault.HANG, 0);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants();
        final long stall = rig.device.failovers().lastStallNanos(0);
        assertTrue(stall > 0 && stall < 5_000_000 + 1_000_000 + 500_000,
            "stall within timeout + 1 ms (+ one age report): " + stall);
    }

    @Test
    void zombieCompletionsAreDropped()
    {
        final BlkRig rig = rig(11, 2);
        rig.faults.inject(300_000, rig.disks[0], CardFault.ZOMBIE, 1_000_000);
        rig.faults.inject(300_001, rig.disks[0], CardFault.FAIL_STOP, 0);
        rig.faults.rejoin(30_000_000, rig.disks[0]);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants();
    }

    @Test
    void packedRingsAndSeveralQueuesAcrossFailover()
    {
        final BlkRig.Options options = new BlkRig.Options();
        options.cards = 4;
        options.queues = 3;
        options.packed = true;
        options.spray = false;
        final BlkRig rig = new BlkRig(13, options);
        rig.faults.inject(300_000, rig.disks[1], CardFault.FAIL_STOP, 0);
        rig.faults.rejoin(20_000_000, rig.disks[1]);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants();
    }

    @Test
    void activePassiveFailsOverToTheStandby()
    {
        final BlkRig.Options options = new BlkRig.Options();
        options.cards = 2;
        options.activePassive = true;
        final BlkRig rig = new BlkRig(17, options);
        rig.faults.inject(300_000, rig.disks[0], CardFault.LINK_DOWN, 0);
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants();
        assertTrue(rig.disks[1].completed() > 0, "the standby served after the failover");
    }

    @Test
    void allCardsDownFailsWithIoErrorAtTheDeadlineNeverHangs()
    {
        final BlkRig.Options options = new BlkRig.Options();
        options.cards = 2;
        options.requestsPerQueue = 400;
        options.customise = c -> c.allDown(dev.braid.ha.AllDownPolicy.queueUntilDeadline(50_000_000));
        final BlkRig rig = new BlkRig(19, options);
        // Early enough that the 400 requests are still running (they take about 300 us in all).
        rig.faults.inject(100_000, rig.disks[0], CardFault.FAIL_STOP, 0);
        rig.faults.inject(100_000, rig.disks[1], CardFault.FAIL_STOP, 0);
        assertTrue(rig.run(60_000_000_000L), "every request was answered");
        assertTrue(rig.guests[0].errors() > 0, "requests failed with IOERR after the deadline");
        assertEquals(0, rig.guests[0].strays());
        assertEquals(0, rig.guests[0].corrupt());
        assertEquals(0, rig.device.frontQueue(0).inFlight());
    }
}
