package dev.braid.examples;

import dev.braid.examples.soak.SoakConfig;
import dev.braid.examples.soak.UsageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input to {@code braid soak}, to schedule files and to the other commands' files: one line
 * naming the value, exit 2, and nothing on stdout (no run started). Every case runs under a
 * preemptive timeout: a value that slips through can start a run that never ends (virtual time
 * that cannot move), and must fail this test rather than hang the build.
 */
class SoakInputTest
{
    /** Far above what rejecting takes, far below what a run of the cases' sizes would take if it hung. */
    private static final Duration LIMIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /**
     * Columns: schedule file lines (';' separates lines, empty for none: null), soak args (or another
     * command's; {@code @plan} is the schedule file, {@code @dir} a temporary directory), a substring
     * of the one-line message.
     */
    @ParameterizedTest(name = "[{index}] {1} / {0}")
    @CsvSource(delimiter = '|', value = {
        // Rings too small for a request's header, data and status descriptors.
        "| --deterministic --duration 5ms --device blk --queue-depth 2   | --queue-depth must be at least 3 for --device blk",
        "| --deterministic --duration 5ms --device blk --queue-depth 1   | --queue-depth must be at least 3 for --device blk (a request takes header, data and status descriptors): 1",
        "| --deterministic --duration 5ms --device scsi --queue-depth 2  | --queue-depth must be at least 3 for --device scsi (a request takes header, data and status descriptors): 2",
        "| --deterministic --duration 5ms --device blk --queue-depth 1025 | --queue-depth must be 1..1024: 1025",
        "| --deterministic --duration 5ms --queue-depth 99999999999       | '--queue-depth'",
        "| --deterministic --duration 5ms --queues 17                     | --queues must be 1..16: 17",
        "| --deterministic --duration 5ms --requests 100                  | --requests and --duration exclude each other: 100 and 5ms",
        // Output files: found out before the run, not after it.
        "| --deterministic --duration 5ms --json @dir/missing/r.json      | --json needs an existing directory",
        "| --deterministic --duration 5ms --chart @dir/missing/r.png      | --chart needs an existing directory",
        "| --deterministic --duration 5ms --json @dir                     | --json names a directory",
        "| --deterministic --duration 5ms --json @dir/r --chart @dir/r    | --json and --chart must name different files",
        // Virtual time that cannot move: the run would never end.
        "| --deterministic --duration 10ms --latency fixed:0ns            | --latency must be above 0 with --deterministic --duration",
        "| --deterministic --duration 10ms --latency uniform:0ns-0ns      | --latency must be above 0 with --deterministic --duration",
        "| --deterministic --duration 10ms --latency fixed:0.4ns          | --latency must be above 0 with --deterministic --duration",
        "| --deterministic --duration 10ms --device scsi --latency fixed:0ns | --latency must be above 0 with --deterministic --duration",
        // Service times at or above the completion timeout (deterministic 20 ms, threaded 50 ms).
        "| --deterministic --duration 5ms --latency fixed:20ms            | --latency must stay below the completion timeout of 20.00ms",
        "| --deterministic --duration 5ms --latency uniform:19ms-25ms      | --latency must stay below the completion timeout of 20.00ms",
        "| --deterministic --duration 5ms --latency lognormal:30ms        | --latency must stay below the completion timeout of 20.00ms",
        "| --threaded --duration 5ms --latency fixed:50ms                 | --latency must stay below the completion timeout of 50.00ms",
        "| --deterministic --duration 5ms --latency exponential:1us,1000000h | --latency times must be at most 1h",
        "| --deterministic --duration 5ms --latency lognormal:1000000h    | --latency times must be at most 1h",
        "| --deterministic --duration 5ms --bandwidth 1B/s                | --bandwidth must move a 512-byte sector within the completion timeout of 20.00ms",
        // Schedule files: overflow once converted to ns, bad times, cards, actions, params.
        "10 0 link-down 18446744073710 | --deterministic --duration 5ms --faults @plan | :1: param must be 0..1000000000: 18446744073710",
        "10 0 zombie 9223372036854775807 | --deterministic --duration 5ms --faults @plan | :1: param must be 0..1000000000: 9223372036854775807",
        "10 0 zombie 99999999999999999999 | --deterministic --duration 5ms --faults @plan | :1: param must be a whole number 0..1000000000",
        "# ok;10 0 zombie 1000000001 | --deterministic --duration 5ms --faults @plan | :2: param must be 0..1000000000: 1000000001",
        "10 0 slow -3                  | --deterministic --duration 5ms --faults @plan | :1: param must be 0..1000000000: -3",
        "10 0 slow 1.5                 | --deterministic --duration 5ms --faults @plan | :1: param must be a whole number",
        "-1 0 hang                     | --deterministic --duration 5ms --faults @plan | :1: time must be milliseconds, 0..1000000000: -1",
        "NaN 0 hang                    | --deterministic --duration 5ms --faults @plan | :1: time must be milliseconds, 0..1000000000: NaN",
        "Infinity 0 hang               | --deterministic --duration 5ms --faults @plan | :1: time must be milliseconds, 0..1000000000: Infinity",
        "1e10 0 hang                   | --deterministic --duration 5ms --faults @plan | :1: time must be milliseconds, 0..1000000000: 1e10",
        "ten 0 hang                    | --deterministic --duration 5ms --faults @plan | :1: time must be milliseconds",
        "10 0 explode                  | --deterministic --duration 5ms --faults @plan | :1: unknown action 'explode'",
        "10 2 hang                     | --deterministic --duration 5ms --cards 2 --faults @plan | :1: card must be 0..1: 2",
        "10 -1 hang                    | --deterministic --duration 5ms --cards 2 --faults @plan | :1: card must be 0..1: -1",
        "10 x hang                     | --deterministic --duration 5ms --cards 2 --faults @plan | :1: card must be a number 0..1: x",
        "10 0 hang 5                   | --deterministic --duration 5ms --faults @plan | :1: hang takes no param: 5",
        "10 0 fail-stop 5              | --deterministic --duration 5ms --faults @plan | :1: fail-stop takes no param: 5",
        "10 0 rejoin 5                 | --deterministic --duration 5ms --faults @plan | :1: rejoin takes no param: 5",
        "10 0                          | --deterministic --duration 5ms --faults @plan | :1: expected '<time_ms> <card> <action> [param]'",
        "10 0 slow 2 3                 | --deterministic --duration 5ms --faults @plan | :1: expected '<time_ms> <card> <action> [param]'",
        "| --deterministic --duration 5ms --faults @dir                   | --faults must be none, light, heavy, demo",
        "| --deterministic --duration 5ms --faults adversarial:nope       | nope",
        // The other commands that write files check them the same way, before running anything.
        "| bench --quick --out @dir/missing/r.md                          | --out needs an existing directory",
        "| bench --quick --json @dir/missing/r.json                       | --json needs an existing directory",
        "| bench --quick --chart @plan                                    | --chart must be a directory",
        "| faults --seed x                                                | '--seed'",
        "| faults no-such-scenario                                        | unknown scenario 'no-such-scenario'",
    })
    void badInputIsOneLineAndExitTwoBeforeAnyWork(final String schedule, final String args, final String message)
        throws Exception
    {
        final Path plan = dir.resolve("plan.txt");
        Files.write(plan, schedule == null ? new byte[0] : String.join("\n", schedule.split(";")).getBytes());
        final String command = args.trim().startsWith("bench ") || args.trim().startsWith("faults ") ? "" : "soak ";
        final String[] argv = (command + args.trim().replace("@plan", plan.toString()).replace("@dir", dir.toString()))
            .split("\\s+");

        final int rc = assertTimeoutPreemptively(LIMIT, () -> run(argv), () -> "still running: " + Arrays.toString(argv));

        final String e = err.toString().trim();
        assertEquals(BraidCli.USAGE, rc, () -> "exit status; err: " + e + " out: " + out);
        assertEquals(1, e.lines().count(), () -> "one line: " + e);
        assertTrue(e.startsWith("braid: ") && e.contains(message), () -> "expected '" + message + "' in: " + e);
        assertEquals("", out.toString(), "nothing on stdout: the soak never started");
    }

    /** The controls: short valid runs that must pass, near the edges the cases above refuse. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "--deterministic --duration 5ms --faults none --device blk --queue-depth 3 --json @dir/r.json",
        "--deterministic --duration 5ms --faults none --device net --queue-depth 1",
        "--deterministic --requests 200 --faults none --latency fixed:0ns",
        "--deterministic --duration 5ms --faults @plan --cards 2 --latency uniform:10us-19ms",
    })
    void validShortRunsPass(final String args) throws Exception
    {
        final Path plan = dir.resolve("plan.txt");
        Files.writeString(plan, "1 0 hang\n2 0 zombie 1000000000\n3 1 link-down 1000000000\n4 1 heal\n");
        final String[] argv = ("soak --quiet " + args.replace("@plan", plan.toString()).replace("@dir", dir.toString()))
            .split("\\s+");

        final int rc = assertTimeoutPreemptively(Duration.ofSeconds(120), () -> run(argv));

        assertEquals(BraidCli.OK, rc, () -> "out: " + out + " err: " + err);
        assertTrue(out.toString().startsWith("RESULT     PASS"), out::toString);
        if (args.contains("--json"))
        {
            assertTrue(Files.readString(dir.resolve("r.json")).contains("\"invariants_ok\":true"));
        }
    }

    @Test
    void theLargestQueuesTheFlagsAcceptFitTheDevice()
    {
        for (final String device : new String[]{ "blk", "net", "scsi" })
        {
            final SoakConfig c = new SoakConfig();
            c.device = device;
            c.queues = 16;
            c.queueDepth = 1024;
            c.validate();
        }
        SoakConfig.checkQueueBudget(62, 1024);
        final UsageException ex = assertThrows(UsageException.class, () -> SoakConfig.checkQueueBudget(63, 1024));
        assertEquals("--queues x --queue-depth must fit the device's 65536 queue entries: 63 x 1024", ex.getMessage());
    }

    private int run(final String... args)
    {
        return BraidCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }
}
