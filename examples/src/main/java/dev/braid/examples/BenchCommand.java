package dev.braid.examples;

import dev.braid.examples.bench.BenchRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code braid bench}: the perf module's JMH suite (or a subset), as a markdown table and charts. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Run the JMH suite of the perf module (building perf/target/benchmarks.jar if missing), " +
        "or render an existing JMH JSON result; write a markdown table and optional PNG charts.")
public final class BenchCommand implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..*", description = "benchmark name patterns (JMH regexps); default: all")
    List<String> patterns = new ArrayList<>();

    @Option(names = "--out", description = "markdown results file (default: ${DEFAULT-VALUE})")
    Path out = Path.of("bench-results.md");

    @Option(names = "--json", description = "JMH JSON results file (default: next to --out)")
    Path json;

    @Option(names = "--from-json", description = "do not run JMH: render this JMH JSON result")
    Path fromJson;

    @Option(names = "--chart", description = "directory for PNG charts (throughput vs cards, failover stall distribution, all scores)")
    Path chart;

    @Option(names = "--quick", description = "one fork, one short warmup and measurement iteration (a smoke run)")
    boolean quick;

    @Option(names = "--jmh-args", description = "extra JMH arguments, e.g. \"-p impl=braid\"")
    String jmhArgs;

    public Integer call() throws Exception
    {
        return new BenchRunner(spec.commandLine().getOut(), spec.commandLine().getErr())
            .run(patterns, out, json, fromJson, chart, quick, jmhArgs);
    }
}
