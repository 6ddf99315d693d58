package dev.braid.examples;

import dev.braid.testkit.DefaultSeed;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed sweeps: many tiny deterministic soaks with random shapes and random faults, checking
 * every invariant after each run. The seed count scales with -Dbraid.seeds (pom default 2000): blk
 * runs 2 x braid.seeds, net and scsi 2 x each too, so the CI total is 12,000 seeds over the three
 * kinds. A failure prints its seed; -Dbraid.seed=N replays just that one.
 */
@ExtendWith(SeedExtension.class)
class SimulationSweepTest
{
    @ParameterizedTest(name = "{0} x {1}")
    @CsvSource({ "blk, 2", "net, 2", "scsi, 2" })
    @DefaultSeed(1)
    void seedsKeepEveryInvariant(final String device, final int factor, final Seed seed)
    {
        final long first = seed.value();
        final int count = seed.runs(factor * seed.seeds());
        final long start = System.nanoTime();
        final List<String> failures = SeedSweep.sweep(device, first, count);
        System.out.printf("%s sweep: seeds %d..%d, %d failed, %.1fs%n", device, first, first + count - 1,
            failures.size(), (System.nanoTime() - start) / 1e9);
        failures.stream().limit(20).forEach(System.out::println);
        assertTrue(failures.isEmpty(), device + ": " + failures.size() + " of " + count +
            " seeds broke an invariant; first: " + (failures.isEmpty() ? "" : failures.get(0)) +
            " (replay: -Dbraid.seed=N)");
    }
}
