package dev.braid.examples;

import dev.braid.examples.faults.FaultScenarios;
import dev.braid.examples.faults.RealCardScenarios;
import dev.braid.examples.faults.ScenarioResult;
import dev.braid.examples.soak.Specs;
import dev.braid.examples.soak.UsageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code braid faults}: the named deterministic fault scenarios, one table row each. */
@Command(name = "faults", mixinStandardHelpOptions = true,
    description = "Run the named fault scenarios (deterministic, virtual time) and print a table.")
public final class FaultsCommand implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..*", description = "scenario names (default: all); --list shows them")
    List<String> scenarios = new ArrayList<>();

    @Option(names = "--seed", description = "seed (default: ${DEFAULT-VALUE})")
    long seed = 1;

    @Option(names = "--list", description = "list the scenario names")
    boolean list;

    @Option(names = "--real", description = "the real-card scenarios instead (qemu-nbd, nbdkit, TAPs in a bridge and " +
        "a namespace; threaded, a few seconds each; needs root for the TAPs): " +
        "nbd-server-killed, nbdkit-error-burst, nbdkit-stall-timeout, tap-link-down, file-hot-add")
    boolean real;

    public Integer call()
    {
        final PrintWriter out = spec.commandLine().getOut();
        final List<String> known = real ? RealCardScenarios.names() : FaultScenarios.names();
        if (list)
        {
            known.forEach(out::println);
            return BraidCli.OK;
        }
        for (final String s : scenarios)
        {
            if (!known.contains(s))
            {
                throw new UsageException("unknown scenario '" + s + "' (braid faults " + (real ? "--real " : "") +
                    "--list shows them)");
            }
        }
        final List<String> names = scenarios.isEmpty() ? known : scenarios;
        out.println(String.format(Locale.ROOT, "%-24s %-8s %10s %10s %10s  %s", "scenario", "result", "stall p50",
            "stall max", "requests", "note"));
        int failed = 0;
        for (final String name : names)
        {
            final ScenarioResult r = real ? RealCardScenarios.run(name, seed) : FaultScenarios.run(name, seed);
            out.println(String.format(Locale.ROOT, "%-24s %-8s %10s %10s %10d  %s", r.name(), r.result(),
                Specs.nanos(r.stallP50Nanos()), Specs.nanos(r.stallMaxNanos()), r.requests(), r.note()));
            out.flush();
            failed += r.failed() ? 1 : 0;
        }
        out.println(failed == 0 ? "all scenarios that ran passed (stall = fence to first replayed completion, " +
            (real ? "wall clock" : "virtual time") + ")" :
            failed + " scenario(s) FAILED (seed " + seed + ")");
        return failed == 0 ? BraidCli.OK : BraidCli.INVARIANT_BROKEN;
    }
}
