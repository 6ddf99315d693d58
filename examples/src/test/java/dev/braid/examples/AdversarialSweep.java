package dev.braid.examples;

import dev.braid.examples.soak.AdversarialSchedules;
import dev.braid.examples.soak.SoakConfig;
import dev.braid.examples.soak.SoakResult;
import dev.braid.examples.soak.SoakRig;

import java.util.ArrayList;
import java.util.List;

/**
 * Short deterministic soaks under {@link AdversarialSchedules}, one per seed: the seed picks the
 * family (seed mod 6), the shape ({@link AdversarialSchedules#shape}) and the plan. Every
 * invariant is checked, the reference model's among them.
 */
final class AdversarialSweep
{
    private AdversarialSweep()
    {
    }

    /** The command line that replays one seed of the sweep. */
    static String replay(final SoakConfig c)
    {
        return "./mvnw -q -B -ntp -pl examples -am test -Dtest=AdversarialSweepTest -Dsurefire.failIfNoSpecifiedTests=false" +
            " -Dbraid.seed=" + c.seed + " -Dbraid.adv.device=" + c.device + " -Dbraid.adv.mode=" + c.mode +
            "   (" + c.describe() + ")";
    }

    static SoakResult run(final SoakConfig config)
    {
        return new SoakRig(config).run();
    }

    /** Runs seeds {@code first..first+count-1}; returns one line per failure. */
    static List<String> sweep(final String device, final String mode, final long first, final int count)
    {
        final List<String> failures = new ArrayList<>();
        for (long seed = first; seed < first + count; seed++)
        {
            final SoakConfig c = AdversarialSchedules.shape(device, mode, seed);
            try
            {
                final SoakRig rig = new SoakRig(c);
                final SoakResult r = rig.run();
                if (!r.invariantsOk())
                {
                    failures.add("seed=" + seed + " " + device + "/" + mode + " " + rig.plan().description() + ": " +
                        r.summary() + (r.modelFirst.isEmpty() ? "" : " first model violation: " + r.modelFirst.get(0)) +
                        "\n    replay: " + replay(c));
                }
            }
            catch (final RuntimeException ex)
            {
                failures.add("seed=" + seed + " " + device + "/" + mode + " threw " + ex + "\n    replay: " + replay(c));
            }
        }
        return failures;
    }
}
