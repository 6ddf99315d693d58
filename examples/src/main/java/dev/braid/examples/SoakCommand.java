package dev.braid.examples;

import dev.braid.examples.soak.FaultPlan;
import dev.braid.examples.soak.Policies;
import dev.braid.examples.soak.ProgressBar;
import dev.braid.examples.soak.SoakChart;
import dev.braid.examples.soak.SoakConfig;
import dev.braid.examples.soak.SoakReport;
import dev.braid.examples.soak.SoakResult;
import dev.braid.examples.soak.SoakRig;
import dev.braid.examples.soak.Specs;
import dev.braid.examples.soak.UsageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code braid soak}: one aggregated device under a fault plan, then the invariants. */
@Command(name = "soak", mixinStandardHelpOptions = true,
    description = "Run an aggregated device over simulated cards under faults and check the invariants.")
public final class SoakCommand implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = "--device", description = "blk, net or scsi (default: ${DEFAULT-VALUE})")
    String device = "blk";

    @Option(names = "--cards", description = "simulated cards, 1..8 (default: ${DEFAULT-VALUE})")
    int cards = 4;

    @Option(names = "--card", paramLabel = "SPEC", description = "a native card instead of simulated ones, repeatable: " +
        "file:PATH, nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH (--device blk; all paths to one disk, " +
        "whose first sectors the soak overwrites) or tap:IFNAME (--device net, TAPs on one L2 network with a peer)")
    List<String> nativeCards = new ArrayList<>();

    @Option(names = "--force-identity", description = "run over --card cards that provably serve different disks " +
        "(different files or sizes)")
    boolean forceIdentity;

    @Option(names = "--guest-ip", description = "net over tap: cards: the guest's IPv4 on the TAPs' network")
    String guestIp;

    @Option(names = "--peer-ip", description = "net over tap: cards: the peer's IPv4 (answers ping, UDP echo on port 7; " +
        "needs a static neighbour entry for --guest-ip -> 52:54:00:aa:00:01)")
    String peerIp;

    @Option(names = "--peer-mac", description = "net over tap: cards: the peer's MAC")
    String peerMac;

    @Option(names = "--mode", description = "aa (active-active) or ap (active-passive) (default: ${DEFAULT-VALUE})")
    String mode = "aa";

    @Option(names = "--selector",
        description = "active-active selector: round-robin, least-outstanding, service-time, flow-hash, queue-affine")
    String selector;

    @Option(names = "--queues", description = "guest queues (default: ${DEFAULT-VALUE})")
    int queues = 2;

    @Option(names = "--queue-depth", description = "requests in flight per guest queue (default: ${DEFAULT-VALUE})")
    int queueDepth = 64;

    @Option(names = "--packed", description = "packed rings instead of split")
    boolean packed;

    @Option(names = "--duration", description = "run time, e.g. 30s, 10m (default: ${DEFAULT-VALUE})")
    String duration = "30s";

    @Option(names = "--requests", description = "run until this many requests completed (instead of --duration)")
    Long requests;

    @Option(names = "--faults", description = "none, light, heavy, demo, adversarial[:family] (edge-aimed plans drawn from --seed; " +
        "families zombie-after-fence, cycles, probing, drain, all-fail, slow-as-timeout, wrap) or a schedule file " +
        "(default: ${DEFAULT-VALUE})")
    String faults = "demo";

    @Option(names = "--seed", description = "seed of workload, faults and scheduler (default: ${DEFAULT-VALUE})")
    long seed = 1;

    @Option(names = "--threaded", description = "real threads, faults by the wall clock (the default)")
    boolean threaded;

    @Option(names = "--deterministic", description = "one thread, virtual time: a seed replays exactly")
    boolean deterministic;

    @Option(names = "--latency", description = "card latency: fixed:20us, uniform:10us-50us, lognormal:30us,0.5 (default: ${DEFAULT-VALUE})")
    String latency = "uniform:10us-50us";

    @Option(names = "--bandwidth", description = "per-card bandwidth cap, e.g. 1GB/s")
    String bandwidth;

    @Option(names = "--read-percent", description = "share of reads (each verified) (default: ${DEFAULT-VALUE})")
    int readPercent = 50;

    @Option(names = "--json", description = "write the result as one JSON object to FILE")
    Path json;

    @Option(names = "--chart", description = "write a PNG chart (throughput, per-card load, faults, failovers)")
    Path chart;

    @Option(names = "--quiet", description = "print only the result line")
    boolean quiet;

    @Option(names = "--progress", description = "show the progress line even when stderr is not a terminal")
    boolean progress;

    /** Builds and checks the configuration; bad values throw a one-line {@link UsageException}. */
    SoakConfig config()
    {
        final SoakConfig c = new SoakConfig();
        c.device = device;
        c.cards = cards;
        c.mode = mode;
        c.selector = selector;
        c.queues = queues;
        c.queueDepth = queueDepth;
        c.packed = packed;
        if (threaded && deterministic)
        {
            throw new UsageException("--threaded and --deterministic exclude each other");
        }
        c.threaded = !deterministic;
        if (c.threaded)
        {
            // Real threads on a shared machine get descheduled for tens of ms; a 20 ms timeout would
            // call healthy cards dead. Virtual time keeps the tighter default.
            c.health = nativeCards.isEmpty() ? SoakConfig.defaultHealth().completionTimeoutNanos(50_000_000L) :
                SoakConfig.nativeHealth();
        }
        if (requests != null)
        {
            if (spec != null && spec.commandLine().getParseResult() != null &&
                spec.commandLine().getParseResult().hasMatchedOption("--duration"))
            {
                throw new UsageException("--requests and --duration exclude each other: " + requests + " and " + duration);
            }
            if (requests < 1)
            {
                throw new UsageException("--requests must be >= 1: " + requests);
            }
            c.requests = requests;
            c.durationNanos = 0;
        }
        else
        {
            c.durationNanos = Specs.durationNanos("--duration", duration);
        }
        c.faults = faults;
        c.seed = seed;
        c.latency = latency;
        c.bandwidth = bandwidth == null ? 0 : Specs.bandwidthBytesPerSecond(bandwidth);
        c.readPercent = readPercent;
        if (!nativeCards.isEmpty())
        {
            for (final String option : List.of("--cards", "--latency", "--bandwidth"))
            {
                if (matched(option))
                {
                    throw new UsageException(option + " applies to simulated cards; with --card the cards are the ones " +
                        "given (sim and native cards share no disk or network)");
                }
            }
            c.cardSpecs = List.copyOf(nativeCards);
            c.forceIdentity = forceIdentity;
            c.guestIp = guestIp == null ? 0 : Specs.ipv4("--guest-ip", guestIp);
            c.peerIp = peerIp == null ? 0 : Specs.ipv4("--peer-ip", peerIp);
            c.peerMac = peerMac == null ? 0 : Specs.mac("--peer-mac", peerMac);
        }
        else if (forceIdentity || guestIp != null || peerIp != null || peerMac != null)
        {
            throw new UsageException("--force-identity, --guest-ip, --peer-ip and --peer-mac apply to --card cards only");
        }
        c.validate();
        final dev.braid.examples.soak.DeviceKind kind = dev.braid.examples.soak.DeviceKinds.of(c.device);
        if (c.activePassive() && selector != null && !"queue-affine".equals(selector))
        {
            throw new UsageException("--selector applies to --mode aa only (active-passive is queue-affine): " + selector);
        }
        Policies.selector(c, kind.defaultSelector());
        kind.validate(c);
        if (c.isNative())
        {
            FaultPlan.validateNative(c.faults, c.nativeSpecs());
        }
        else
        {
            FaultPlan.validate(c.faults, c.cards);
        }
        Specs.outputFile("--json", json);
        Specs.outputFile("--chart", chart);
        if (json != null && chart != null && json.toAbsolutePath().normalize().equals(chart.toAbsolutePath().normalize()))
        {
            throw new UsageException("--json and --chart must name different files: " + json);
        }
        return c;
    }

    private boolean matched(final String option)
    {
        return spec != null && spec.commandLine().getParseResult() != null &&
            spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    public Integer call() throws IOException
    {
        final PrintWriter out = spec != null ? spec.commandLine().getOut() : new PrintWriter(System.out, true);
        final SoakConfig config = config();
        final SoakRig rig = new SoakRig(config);
        final boolean showProgress = !quiet && (progress || System.console() != null);
        final ProgressBar bar = new ProgressBar(System.err);
        if (showProgress)
        {
            rig.progress(bar);
        }
        if (!quiet)
        {
            out.println("braid soak: " + config.describe());
            if (rig.plan() != null)
            {
                out.println("adversarial " + rig.plan().description() + " (replay: --seed " + config.seed + ")");
            }
            out.flush();
        }
        final SoakResult result = rig.run();
        bar.finish();
        final String report = SoakReport.text(result);
        if (quiet)
        {
            out.println(report.substring(report.lastIndexOf("RESULT")).trim());
        }
        else
        {
            out.print(report.substring(report.indexOf('\n') + 1));
        }
        if (json != null)
        {
            Files.writeString(json, SoakReport.json(result) + "\n");
        }
        if (chart != null)
        {
            SoakChart.write(result, chart);
            if (!quiet)
            {
                out.println("chart      " + chart);
            }
        }
        out.flush();
        return result.invariantsOk() ? BraidCli.OK : BraidCli.INVARIANT_BROKEN;
    }
}
