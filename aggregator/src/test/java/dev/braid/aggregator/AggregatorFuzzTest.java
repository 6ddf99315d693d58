package dev.braid.aggregator;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.sim.CardFault;
import dev.braid.sim.LatencyModel;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fuzzer chooses the device shape, the workload and the fault schedule; the blk invariants
 * must hold whenever one card stays up. One card (the survivor, also fuzzer-chosen) is never
 * faulted. Regression mode replays the committed corpus; JAZZER_FUZZ=1 searches for more.
 */
class AggregatorFuzzTest
{
    private static final CardFault[] FAULTS = {
        CardFault.FAIL_STOP, CardFault.LINK_DOWN, CardFault.HANG, CardFault.SLOW, CardFault.ERROR_BURST,
        CardFault.ZOMBIE };

    @FuzzTest(maxDuration = "60s")
    void faultScheduleAndWorkload(final FuzzedDataProvider data)
    {
        final BlkRig.Options options = new BlkRig.Options();
        options.cards = data.consumeInt(2, 4);
        options.queues = data.consumeInt(1, 2);
        options.packed = data.consumeBoolean();
        options.activePassive = data.consumeBoolean();
        options.spray = data.consumeBoolean();
        options.queueSize = 1 << data.consumeInt(3, 6);
        options.requestsPerQueue = data.consumeInt(50, 600);
        options.latency = LatencyModel.uniform(1_000, data.consumeLong(2_000, 200_000));
        final long seed = data.consumeLong();
        final int survivor = data.consumeInt(0, options.cards - 1);
        final BlkRig rig = new BlkRig(seed, options);

        final int events = data.consumeInt(0, 6);
        for (int i = 0; i < events; i++)
        {
            int card = data.consumeInt(0, options.cards - 1);
            if (card == survivor)
            {
                card = (card + 1) % options.cards;
            }
            final long at = data.consumeLong(0, 3_000_000);
            final CardFault fault = FAULTS[data.consumeInt(0, FAULTS.length - 1)];
            final long param = fault == CardFault.SLOW ? data.consumeInt(2, 20) :
                fault == CardFault.ERROR_BURST ? data.consumeInt(1, 50) : data.consumeLong(0, 2_000_000);
            rig.faults.inject(at, rig.disks[card], fault, param);
            rig.faults.rejoin(at + data.consumeLong(1, 20_000_000), rig.disks[card]);
        }
        assertTrue(rig.run(120_000_000_000L), "all requests answered (seed=" + seed + ")");
        rig.assertInvariants();
    }

    /**
     * Fault timings relative to the protocol's edges rather than to the clock: the fuzzer chooses,
     * per cycle on a non-survivor card, how the card gets fenced (a hang, or a slowdown of exactly
     * the completion timeout give or take one latency step), when it turns zombie relative to the
     * expected fence (timeout after the fault, minus a little up to a timeout later), how long after
     * that its stale answers come back (one of the edge delays 0, 1 ns, 1 us ... timeout + 1 ns, or
     * any value up to two timeouts), and when it rejoins or fails again relative to those answers.
     */
    @FuzzTest(maxDuration = "60s")
    void zombieDelaysAndFaultTimingsRelativeToFences(final FuzzedDataProvider data)
    {
        final BlkRig.Options options = new BlkRig.Options();
        final long timeout = options.health.completionTimeoutNanos();
        options.cards = data.consumeInt(2, 3);
        options.queues = data.consumeInt(1, 2);
        options.packed = data.consumeBoolean();
        options.activePassive = data.consumeBoolean();
        options.spray = data.consumeBoolean();
        options.queueSize = 1 << data.consumeInt(2, 5);
        options.requestsPerQueue = data.consumeInt(200, 2_000);
        final long latency = new long[]{ 10_000, 20_000, 50_000 }[data.consumeInt(0, 2)];
        options.latency = LatencyModel.fixed(latency);
        final long seed = data.consumeLong();
        final int survivor = data.consumeInt(0, options.cards - 1);
        final BlkRig rig = new BlkRig(seed, options);
        final long[] edges = { 0, 1, 1_000, 10_000, 100_000, timeout / 2, timeout - 1, timeout, timeout + 1 };

        long at = data.consumeLong(0, timeout);
        final int cycles = data.consumeInt(0, 4);
        for (int i = 0; i < cycles; i++)
        {
            int card = data.consumeInt(0, options.cards - 1);
            if (card == survivor)
            {
                card = (card + 1) % options.cards;
            }
            final boolean slow = data.consumeBoolean();
            if (slow)
            {
                rig.faults.inject(at, rig.disks[card], CardFault.SLOW,
                    Math.max(2, timeout / latency + data.consumeInt(-1, 1)));
            }
            else
            {
                rig.faults.inject(at, rig.disks[card], CardFault.HANG, 0);
            }
            final long zombieAt = Math.max(at, at + timeout + data.consumeLong(-timeout / 10, timeout));
            final long delay = data.consumeBoolean() ? edges[data.consumeInt(0, edges.length - 1)] :
                data.consumeLong(0, 2 * timeout);
            rig.faults.inject(zombieAt, rig.disks[card], CardFault.ZOMBIE, delay);
            final long rejoinAt = Math.max(zombieAt, zombieAt + delay + data.consumeLong(-1_000, timeout));
            rig.faults.rejoin(rejoinAt, rig.disks[card]);
            if (data.consumeBoolean())
            {
                // Fail again right after the rejoin: while probing, or just after coming back.
                final long failAt = rejoinAt + data.consumeLong(0, 2 * timeout);
                rig.faults.inject(failAt, rig.disks[card], data.consumeBoolean() ? CardFault.FAIL_STOP : CardFault.HANG, 0);
                rig.faults.rejoin(failAt + data.consumeLong(1, 2 * timeout), rig.disks[card]);
                at = failAt + 2 * timeout;
            }
            else
            {
                at = rejoinAt + data.consumeLong(0, timeout);
            }
        }
        assertTrue(rig.run(120_000_000_000L), "all requests answered (seed=" + seed + ")");
        rig.assertInvariants();
    }
}
