package dev.braid.examples;

import dev.braid.examples.soak.AdversarialSchedules;
import dev.braid.examples.soak.SoakConfig;
import dev.braid.examples.soak.SoakResult;
import dev.braid.examples.soak.SoakRig;
import dev.braid.testkit.DefaultSeed;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The adversarial sweep: thousands of short deterministic soaks whose faults aim at the fence and
 * timeout edges ({@link AdversarialSchedules}), over blk, net and scsi, aa and ap, each checked
 * against every invariant and the reference model. The seed count per device and mode scales
 * with -Dbraid.seeds (pom default 2000; the sweep runs braid.seeds / 4 each, 500 by default: 3,000
 * schedules). A failure prints its seed and the command that replays it; -Dbraid.seed=N (with
 * -Dbraid.adv.device / -Dbraid.adv.mode to pick one combination) replays just that one.
 */
@ExtendWith(SeedExtension.class)
class AdversarialSweepTest
{
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({ "blk, aa", "blk, ap", "scsi, aa", "scsi, ap", "net, aa", "net, ap" })
    @DefaultSeed(1)
    void adversarialSchedulesKeepEveryInvariant(final String device, final String mode, final Seed seed)
    {
        final String onlyDevice = System.getProperty("braid.adv.device");
        final String onlyMode = System.getProperty("braid.adv.mode");
        if ((onlyDevice != null && !onlyDevice.equals(device)) || (onlyMode != null && !onlyMode.equals(mode)))
        {
            return;
        }
        final long first = seed.value();
        final int count = seed.runs(Math.max(1, seed.seeds() / 4));
        final long start = System.nanoTime();
        final List<String> failures = AdversarialSweep.sweep(device, mode, first, count);
        System.out.printf("adversarial %s %s: seeds %d..%d, %d failed, %.1fs%n", device, mode, first, first + count - 1,
            failures.size(), (System.nanoTime() - start) / 1e9);
        failures.stream().limit(10).forEach(System.out::println);
        assertTrue(failures.isEmpty(), device + " " + mode + ": " + failures.size() + " of " + count +
            " adversarial schedules broke an invariant; first: " + (failures.isEmpty() ? "" : failures.get(0)));
    }

    /**
     * Late answers past the 16-bit attempt wrap (reproduction 2 of issue 7): blk in ap over 2 cards,
     * queue depth 3, fixed 10 us, a zombie answering ~1.16 s after its fence, at the reproduction's
     * exact delay (seed 1, the default; -Dbraid.adv.wraps=9 runs 8 more) and a quarter latency either side. One 1.25 s run each.
     */
    @Test
    void lateAnswersPastTheAttemptWrap()
    {
        final int count = Integer.getInteger("braid.adv.wraps", 1);
        final long[] seeds = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        final StringBuilder failures = new StringBuilder();
        for (int i = 0; i < Math.min(count, seeds.length); i++)
        {
            final SoakConfig c = AdversarialSchedules.wrapShape("blk", seeds[i]);
            final SoakRig rig = new SoakRig(c);
            final SoakResult r = rig.run();
            System.out.println("wrap seed " + seeds[i] + ": " + r.summary());
            if (!r.invariantsOk())
            {
                failures.append("\n  seed=").append(seeds[i]).append(' ').append(rig.plan().description()).append(": ")
                    .append(r.summary()).append("\n    replay: ./braid soak --deterministic --duration 1250ms --cards 2 " +
                        "--mode ap --queues 1 --queue-depth 3 --latency fixed:10us --faults adversarial:wrap --seed ")
                    .append(seeds[i]);
            }
        }
        assertTrue(failures.length() == 0, "late answers past the attempt wrap:" + failures);
    }
}
