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
}
