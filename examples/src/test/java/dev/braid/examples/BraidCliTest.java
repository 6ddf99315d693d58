package dev.braid.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BraidCliTest
{
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(final String... args)
    {
        return BraidCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--cards 0                | braid: --cards must be 1..8: 0",
        "--cards 9                | braid: --cards must be 1..8: 9",
        "--mode xx                | braid: --mode must be aa or ap: xx",
        "--queues 0               | braid: --queues must be 1..16: 0",
        "--queue-depth 0          | braid: --queue-depth must be 1..1024: 0",
        "--duration forever       | braid: --duration must be a positive duration like 30s, 500ms or 10m: forever",
        "--requests 0             | braid: --requests must be >= 1: 0",
        "--latency slow           | braid: --latency must be fixed:20us, uniform:10us-50us, exponential:10us,20us or lognormal:30us[,0.5]: slow",
        "--bandwidth 5            | braid: --bandwidth must look like 1GB/s, 500MB/s or 2GiB/s: 5",
        "--selector fastest       | braid: --selector must be one of round-robin, least-outstanding, service-time, flow-hash, queue-affine: fastest",
        "--device floppy          | braid: --device must be one of blk, net, scsi: floppy",
        "--faults /no/such/file   | braid: --faults must be none, light, heavy, demo, adversarial[:family] or a schedule file: /no/such/file",
        "--mode ap --selector round-robin | braid: --selector applies to --mode aa only (active-passive is queue-affine): round-robin",
        "--threaded --deterministic | braid: --threaded and --deterministic exclude each other",
        "--device net --selector queue-affine | braid: --device net --mode aa needs a spraying selector (flow-hash, round-robin, least-outstanding, service-time): queue-affine splits the rx and tx of a queue pair over cards",
    })
    void badValuesGiveOneLineAndExitTwo(final String args, final String message)
    {
        final String[] argv = ("soak " + args.trim()).split("\\s+");
        assertEquals(BraidCli.USAGE, run(argv));
        assertEquals(message, err.toString().trim());
        assertEquals(1, err.toString().trim().lines().count(), "one line");
    }

    static final String SOCK = "/tmp/braid-cli-test-" + ProcessHandle.current().pid() + ".sock";

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--card sim:16M                           | braid: Missing required option: '--socket=PATH'",
        "--socket S                               | braid: Missing required option: '--card=SPEC'",
        "--socket S --card sim:16M --device tape  | braid: --device tape: expected blk, net or scsi",
        "--socket S --card sim:16M --device net   | braid: --card sim:16M: expected sim or tap:IFNAME for --device net",
        "--socket S --card sim --device blk       | braid: --card sim: expected sim:SIZE, nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH or file:PATH",
        "--socket S --card tap: --device net      | braid: --card tap:: tap card: interface name is required (tap:IFNAME)",
        "--socket S --card tap:a/b --device net   | braid: --card tap:a/b: tap card: interface name 'a/b' is not a valid Linux name",
        "--socket S --card tap:averyveryverylongname --device net | braid: --card tap:averyveryverylongname: tap card: interface name 'averyveryverylongname' is longer than 15 bytes",
        "--socket S --card tap:t0 --card tap:t0 --device net | braid: --card tap:t0: given twice (one card per TAP)",
        "--socket S --card sim --card tap:t0 --device net | braid: --card: sim and tap cards are not on one network; use one kind",
        "--socket S --card sim --device net --mac 01:00:5e:00:00:01 | braid: --mac 01:00:5e:00:00:01: not a unicast address",
        "--socket S --card sim --device net --mac 52:54:00:12:34 | braid: --mac 52:54:00:12:34: expected six hex octets, e.g. 52:54:00:12:34:56",
        "--socket S --card sim:16M --mac 52:54:00:12:34:57 | braid: --mac 52:54:00:12:34:57: applies to --device net only",
        "--socket S --card sim --device net --queues 65 | braid: --queues 65: expected 1..64",
        "--socket S --card sim --device net --queues 2 --queue-size 32768 | braid: --queues 2 pairs x --queue-size 32768: over 65536 ring entries in all",
        "--socket S --card sim --device net --queues 16 --queue-size 4096 | braid: --queues 16 pairs x --queue-size 4096: over 65536 ring entries in all",
        "--socket S --device scsi --card sim:16M --card nbd://h/x | braid: --card: sim and nbd cards do not share data; use one kind",
        "--socket /no/such/dir/s --card sim:16M   | braid: --socket /no/such/dir/s: directory /no/such/dir does not exist",
        "--socket /tmp --card sim:16M             | braid: --socket /tmp: exists and is not a socket",
        "--socket S --card floppy:1               | braid: --card floppy:1: expected sim:SIZE, nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH or file:PATH",
        "--socket S --card file:                  | braid: --card file:: file: needs a path (file:/path/to/disk.img)",
        "--socket S --card file:/no/such/disk.img | braid: --card file:/no/such/disk.img: no such file",
        "--socket S --card file:/tmp              | braid: --card file:/tmp: not a regular file or block device",
        "--socket S --card sim:16M --card file:/dev/null | braid: --card file:/dev/null: not a regular file or block device",
        "--socket S --card sim:lots               | braid: --card sim:lots: size is not a number (e.g. sim:64M)",
        "--socket S --card sim:0                  | braid: --card sim:0: size must be 1M..1G and a multiple of 512 bytes",
        "--socket S --card sim:4K                 | braid: --card sim:4K: size must be 1M..1G and a multiple of 512 bytes",
        "--socket S --card sim:2G                 | braid: --card sim:2G: size must be 1M..1G and a multiple of 512 bytes",
        "--socket S --card sim:1048577            | braid: --card sim:1048577: size must be 1M..1G and a multiple of 512 bytes",
        "--socket S --card sim:16M --card sim:32M | braid: --card sim:32M: sim cards share one store, so one size (first was 16777216 bytes)",
        "--socket S --card nbd+unix:///x          | braid: --card: bad NBD URI 'nbd+unix:///x': nbd+unix needs ?socket=PATH, found query 'null'",
        "--socket S --card nbd://h:0/x            | braid: --card: bad NBD URI 'nbd://h:0/x': port 0 is not 1..65535",
        "--socket S --card sim:16M --card nbd://h/x | braid: --card: sim and nbd cards do not share data; use one kind",
        "--socket S --card sim:16M --mode xx      | braid: --mode xx: expected aa or ap",
        "--socket S --card sim:16M --queues 0     | braid: --queues 0: expected 1..64",
        "--socket S --card sim:16M --queues 65    | braid: --queues 65: expected 1..64",
        "--socket S --card sim:16M --queues two   | braid: Invalid value for option '--queues': 'two' is not an int",
        "--socket S --card sim:16M --queue-size 100 | braid: --queue-size 100: expected a power of two 1..32768",
        "--socket S --card sim:16M --queues 4 --queue-size 32768 | braid: --queues 4 x --queue-size 32768: over 65536 ring entries in all",
        "--socket S --card sim:16M --turbo        | braid: Unknown option: '--turbo'",
    })
    void serveBadInputGivesOneLineAndExitTwoBeforeAnyWork(final String args, final String message)
    {
        final String[] argv = ("serve " + args.trim().replace("--socket S", "--socket " + SOCK)).split("\\s+");
        assertEquals(BraidCli.USAGE, run(argv));
        assertEquals(message.replace(" S:", " " + SOCK + ":"), err.toString().trim());
        assertEquals(1, err.toString().trim().lines().count(), "one line");
        assertFalse(Files.exists(Path.of(SOCK)), "nothing bound");
        assertEquals("", out.toString(), "nothing served");
    }

    @Test
    void serveRefusesFileCardsThatAreProvablyDifferentDisks(@org.junit.jupiter.api.io.TempDir final Path dir) throws Exception
    {
        final Path a = Files.write(dir.resolve("a.img"), new byte[4096]);
        final Path b = Files.write(dir.resolve("b.img"), new byte[4096]);
        final Path odd = Files.write(dir.resolve("odd.img"), new byte[1000]);
        assertEquals(BraidCli.USAGE, run("serve", "--socket", SOCK, "--card", "file:" + a, "--card", "file:" + b));
        assertEquals("braid: --card file:" + b + ": not the same file as file:" + a +
            " (different device or inode: two disks, not two paths to one)", err.toString().trim());
        assertFalse(Files.exists(Path.of(SOCK)), "nothing bound");
        err.getBuffer().setLength(0);
        assertEquals(BraidCli.USAGE, run("serve", "--socket", SOCK, "--card", "file:" + odd));
        assertEquals("braid: --card file:" + odd + ": size 1000 is not a whole number of 512-byte sectors", err.toString().trim());
        err.getBuffer().setLength(0);
        assertEquals(BraidCli.USAGE, run("serve", "--socket", SOCK, "--card", "file:" + a, "--card", "sim:16M"));
        assertEquals("braid: --card: sim and file cards do not share data; use one kind", err.toString().trim());
    }

    @Test
    void notANumberIsAUsageError()
    {
        assertEquals(BraidCli.USAGE, run("soak", "--cards", "four"));
        assertTrue(err.toString().startsWith("braid: "), err.toString());
        assertEquals(1, err.toString().trim().lines().count());
    }

    @Test
    void unknownOptionIsAUsageError()
    {
        assertEquals(BraidCli.USAGE, run("soak", "--turbo"));
        assertTrue(err.toString().startsWith("braid: Unknown option: '--turbo'"), err.toString());
    }

    @Test
    void scheduleFileErrorsNameTheLine(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("plan.txt");
        Files.write(file, List.of("# a plan", "10 0 fail-stop", "20 0 explode"));
        assertEquals(BraidCli.USAGE, run("soak", "--faults", file.toString()));
        assertEquals("braid: " + file + ":3: unknown action 'explode' (valid: fail-stop, link-down, hang, slow, " +
            "error-burst, zombie, heal, rejoin)", err.toString().trim());
    }

    @Test
    void scheduleFileCardOutOfRange(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("plan.txt");
        Files.write(file, List.of("10 5 hang"));
        assertEquals(BraidCli.USAGE, run("soak", "--cards", "2", "--faults", file.toString()));
        assertEquals("braid: " + file + ":1: card must be 0..1: 5", err.toString().trim());
    }

    @ParameterizedTest
    @CsvSource({ "net, aa, wire_lost_replies", "net, ap, wire_duplicate_replies", "scsi, aa, check_conditions",
        "scsi, ap, aborted" })
    void netAndScsiSoaksWriteTheirOwnCounters(final String device, final String mode, final String field,
        @TempDir final Path dir) throws Exception
    {
        final Path json = dir.resolve("r.json");
        final int rc = run("soak", "--device", device, "--mode", mode, "--deterministic", "--duration", "40ms",
            "--faults", "heavy", "--seed", "5", "--cards", "3", "--json", json.toString(), "--quiet");
        final String text = Files.readString(json);
        assertEquals(BraidCli.OK, rc, out + text);
        assertTrue(text.contains("\"device\":\"" + device + "\""), text);
        assertTrue(text.contains("\"" + field + "\":"), field + " in " + text);
        assertTrue(text.contains("\"invariants_ok\":true"), text);
        assertTrue(text.contains("\"lost\":0,") && text.contains("\"duplicated\":0,") && text.contains("\"corrupted\":0,"),
            text);
    }

    @Test
    void jsonHasTheContractedFields(@TempDir final Path dir) throws Exception
    {
        final Path json = dir.resolve("r.json");
        final Path png = dir.resolve("r.png");
        final int rc = run("soak", "--deterministic", "--duration", "40ms", "--faults", "heavy", "--seed", "11",
            "--cards", "3", "--json", json.toString(), "--chart", png.toString(), "--quiet");
        final String text = Files.readString(json);
        assertEquals(BraidCli.OK, rc, out + text);
        for (final String field : List.of("device", "mode", "cards", "seed", "duration_s", "requests_completed", "iops",
            "p50_us", "p99_us", "p999_us", "max_us", "failovers", "max_stall_us", "lost", "duplicated", "corrupted",
            "leaked", "invariants_ok"))
        {
            assertTrue(text.contains("\"" + field + "\":"), field + " in " + text);
        }
        assertTrue(text.contains("\"invariants_ok\":true"));
        assertTrue(Files.size(png) > 10_000, "a chart was written");
        assertTrue(out.toString().startsWith("RESULT     PASS"), out.toString());
    }

    @Test
    void scheduleFileDrivesASoak(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("plan.txt");
        Files.write(file, List.of("# t(ms) card action param", "5 0 fail-stop", "15 0 rejoin", "20 1 slow 10", "30 1 heal"));
        assertEquals(BraidCli.OK, run("soak", "--deterministic", "--duration", "40ms", "--cards", "2",
            "--faults", file.toString()), out.toString());
        assertTrue(out.toString().contains("failovers  1"), out.toString());
    }
}
