package dev.braid.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code braid serve}'s operator flags without a guest: every bad --faults / --selector / --seed
 * value is one line and exit 2 before the socket is bound; as a real child process it prints the
 * live status line only when asked (stderr is not a terminal here), and SIGTERM gives the final
 * report (blk, net and scsi alike, --faults taken on their sim cards), exit 0, no socket file and
 * no child process. ServeGuestTest runs guests through faults.
 */
class ServeOpsTest
{
    @TempDir
    Path dir;
    @RegisterExtension
    final ServeProcesses processes = new ServeProcesses();
    private ServeProcess serve;

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "--card sim:16M --faults bogus            ; braid: --faults must be none, light, heavy, demo, adversarial[:family] or a schedule file: bogus",
        "--card sim:16M --faults adversarial      ; braid: --faults adversarial: adversarial plans aim at the soak rig's fences (braid serve takes none, light, heavy, demo or a schedule file)",
        "--card sim:16M --faults adversarial:wrap ; braid: --faults adversarial:wrap: adversarial plans aim at the soak rig's fences (braid serve takes none, light, heavy, demo or a schedule file)",
        "--card file:IMG --faults light           ; braid: --faults light: faults are played on sim cards only (--card sim:SIZE)",
        "--device scsi --card file:IMG --faults light ; braid: --faults light: faults are played on sim cards only (--card sim:SIZE)",
        "--device net --card tap:braidt0 --faults light ; braid: --faults light: faults are played on sim cards only (--card sim)",
        "--device net --card sim --faults PLAN_CARD ; braid: PLAN_CARD:2: card must be 0..0: 1",
        "--card sim:16M --faults PLAN_CARD        ; braid: PLAN_CARD:2: card must be 0..0: 1",
        "--card sim:16M --faults PLAN_LINE        ; braid: PLAN_LINE:1: expected '<time_ms> <card> <action> [param]', got '10 0'",
        "--card sim:16M --faults DIR              ; braid: --faults must be none, light, heavy, demo, adversarial[:family] or a schedule file: DIR",
        "--card sim:16M --selector fastest        ; braid: --selector must be one of round-robin, least-outstanding, service-time, flow-hash, queue-affine: fastest",
        "--card sim:16M --mode ap --selector round-robin ; braid: --selector round-robin: applies to --mode aa only (active-passive is queue-affine)",
        "--card sim:16M --mode ap --selector queue-affine ; braid: --selector queue-affine: applies to --mode aa only (active-passive is queue-affine)",
        "--card sim:16M --seed one                ; braid: Invalid value for option '--seed': 'one' is not a long",
        "--card sim:16M --faults                  ; braid: Missing required parameter for option '--faults' (PROFILE|FILE)",
    })
    void badOperatorFlagsGiveOneLineAndExitTwoBeforeBinding(final String args, final String message) throws IOException
    {
        final Path socket = dir.resolve("s.sock");
        final Path image = Files.write(dir.resolve("disk.img"), new byte[1 << 20]);
        final Path planCard = Files.write(dir.resolve("card.plan"), List.of("# card 1 of one", "10 1 fail-stop"));
        final Path planLine = Files.write(dir.resolve("line.plan"), List.of("10 0"));
        final String resolved = args.trim().replace("IMG", image.toString()).replace("PLAN_CARD", planCard.toString())
            .replace("PLAN_LINE", planLine.toString()).replace("DIR", dir.toString());
        final List<String> argv = new ArrayList<>(List.of("serve", "--socket", socket.toString()));
        argv.addAll(List.of(resolved.split("\\s+")));
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        assertEquals(BraidCli.USAGE, BraidCli.run(new PrintWriter(out, true), new PrintWriter(err, true), argv.toArray(String[]::new)));
        final String expected = message.replace("PLAN_CARD", planCard.toString()).replace("PLAN_LINE", planLine.toString())
            .replace("DIR", dir.toString());
        assertEquals(expected, err.toString().trim());
        assertEquals(1, err.toString().trim().lines().count(), "one line");
        assertFalse(Files.exists(socket), "nothing bound");
        assertEquals("", out.toString(), "nothing served");
    }

    /** blk, net and scsi alike: --faults on their sim cards (disks, NICs, HBAs) is taken, and the report names them. */
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "blk  ; --card sim:16M --card sim:16M --selector round-robin",
        "net  ; --card sim --card sim",
        "scsi ; --card sim:16M --card sim:16M --selector round-robin",
    })
    void sigtermGivesTheFinalReportExitZeroNoSocketAndNoChild(final String device, final String cards) throws Exception
    {
        final Path socket = dir.resolve(device + ".sock");
        final Path plan = Files.write(dir.resolve("faults.plan"), List.of("1000 0 fail-stop", "2000 0 rejoin"));
        final List<String> args = new ArrayList<>(List.of("--device", device, "--socket", socket.toString()));
        args.addAll(List.of(cards.trim().split("\\s+")));
        args.addAll(List.of("--faults", plan.toString(), "--queues", "2"));
        serve = startServe(args.toArray(String[]::new));
        serve.awaitLine("braid serve: " + device + " on", 30);
        assertTrue(Files.exists(socket), "socket bound once ready");
        Thread.sleep(1500);
        assertTrue(serve.process().descendants().findAny().isEmpty(), "serve starts no child process");
        serve.stopsOnSigterm("braid serve stops on SIGTERM");
        final List<String> lines = serve.lines();
        assertTrue(lines.contains("braid serve: stopped after 0 connection(s)"), lines.toString());
        serve.assertAnyLineMatches("braid serve: report: up [0-9.]+s, 0 connection\\(s\\), 0 device start\\(s\\)", "the report");
        assertTrue(lines.contains("braid serve: report: 0 requests completed, 0 guest error(s)"), lines.toString());
        assertTrue(lines.contains("braid serve: report: failovers 0, cards -- (sim0 sim1)"), lines.toString());
        // The fault clock starts at the first device start: with no front end, nothing was played.
        assertTrue(lines.contains("braid serve: report: faults " + plan + ": 0 of 2 event(s) applied"), lines.toString());
        assertFalse(lines.stream().anyMatch(l -> l.contains("IOPS")), "no live line when stderr is not a terminal: " + lines);
        assertFalse(Files.exists(socket), "socket file removed");
    }

    @Test
    void progressDrawsTheLiveLineOffATerminalToo() throws Exception
    {
        final Path socket = dir.resolve("p.sock");
        serve = startServe("--socket", socket.toString(), "--card", "sim:16M", "--progress");
        serve.awaitLine("braid serve: blk on", 30);
        serve.awaitLine("IOPS", 10);
        serve.stopsOnSigterm("braid serve stops on SIGTERM");
        final String text = serve.text();
        assertTrue(text.matches("(?s).*\r[0-9]+s  0 IOPS  0 requests  0 guest error\\(s\\)  failovers 0  cards - .*"), text);
        assertTrue(text.contains("\nbraid serve: stopped after 0 connection(s)\n"), "the report starts on its own line: " + text);
        assertFalse(Files.exists(socket));
    }

    private ServeProcess startServe(final String... args) throws IOException
    {
        return processes.start(dir.resolve("serve.log"), args);
    }
}
