package dev.braid.examples;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed sweeps: many tiny deterministic soaks with random shapes and random faults, checking
 * every invariant after each run. The seed count scales with -Dbraid.seeds (pom default 2000);
 * blk runs 5 x braid.seeds until the net and scsi sweeps join (then 2 x each), so the CI total is
 * at least 10,000 seeds. A failure prints its seed; -Dbraid.seed=N replays just that one.
 */
class SimulationSweepTest
{
    static final int BLK_FACTOR = 5;

    @Test
    void blkSeedsKeepEveryInvariant()
    {
        final Long only = Long.getLong("braid.seed");
        final long first = only != null ? only : 1;
        final int count = only != null ? 1 : BLK_FACTOR * Integer.getInteger("braid.seeds", 2000);
        final long start = System.nanoTime();
        final List<String> failures = SeedSweep.sweep("blk", first, count);
        System.out.printf("blk sweep: seeds %d..%d, %d failed, %.1fs%n", first, first + count - 1, failures.size(),
            (System.nanoTime() - start) / 1e9);
        failures.stream().limit(20).forEach(System.out::println);
        assertTrue(failures.isEmpty(), failures.size() + " of " + count + " seeds broke an invariant; first: " +
            (failures.isEmpty() ? "" : failures.get(0)) + " (replay: -Dbraid.seed=N)");
    }
}
