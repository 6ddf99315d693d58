package dev.braid.examples;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code braid serve} as a child process, the way a user runs it, for the serve tests: its output
 * goes to a file (not a pipe), so what it printed is all there after it exited. The checks the
 * serve tests share: a line awaited, a line that matches, a clean stop, and the cleanup after a
 * test that left it running.
 */
final class ServeProcess
{
    private final Process process;
    private final Path log;

    private ServeProcess(final Process process, final Path log)
    {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code braid serve args} on this JVM's classpath, stdin from /dev/null, stdout and stderr to {@code log}. */
    static ServeProcess start(final Path log, final String... args) throws IOException
    {
        final List<String> cmd = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), BraidCli.class.getName(), "serve"));
        cmd.addAll(List.of(args));
        return new ServeProcess(new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true).redirectOutput(log.toFile()).start(), log);
    }

    Process process()
    {
        return process;
    }

    long pid()
    {
        return process.pid();
    }

    /** Everything printed so far. */
    String text() throws IOException
    {
        return Files.readString(log);
    }

    /** The lines printed so far. */
    List<String> lines() throws IOException
    {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    /**
     * Waits until a line holds {@code part}; fails when the process exits first (unless waiting for
     * its last words, "braid serve: stopped") or after {@code seconds}, with what it printed.
     */
    void awaitLine(final String part, final long seconds) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline)
        {
            if (lines().stream().anyMatch(l -> l.contains(part)))
            {
                return;
            }
            if (!process.isAlive() && !part.startsWith("braid serve: stopped"))
            {
                fail("braid serve exited " + process.exitValue() + " before '" + part + "': " + lines());
            }
            Thread.sleep(10);
        }
        fail("no '" + part + "' from braid serve in " + seconds + " s: " + lines());
    }

    /** Fails with {@code what} and the output unless a line printed so far matches {@code regex}. */
    void assertAnyLineMatches(final String regex, final String what) throws IOException
    {
        final List<String> lines = lines();
        assertTrue(lines.stream().anyMatch(l -> l.matches(regex)), what + ": no line matches " + regex + ": " + lines);
    }

    /** SIGTERM, then {@link #assertExitsCleanly}. */
    void stopsOnSigterm(final String what) throws IOException, InterruptedException
    {
        process.destroy();
        assertExitsCleanly(what);
    }

    /** Within 20 s the process ends ({@code what} says why it should), with exit code 0. */
    void assertExitsCleanly(final String what) throws IOException, InterruptedException
    {
        assertTrue(process.waitFor(20, TimeUnit.SECONDS), what);
        assertEquals(0, process.exitValue(), "clean exit: " + lines());
    }

    /**
     * After a test: a passed test stopped serve itself, so one still running failed, and its threads'
     * stacks (SIGQUIT, into the log) say where a stalled guest's requests are; the log is printed and
     * the process killed.
     */
    void afterTest() throws IOException, InterruptedException
    {
        if (process.isAlive())
        {
            new ProcessBuilder("kill", "-QUIT", Long.toString(process.pid())).start().waitFor(5, TimeUnit.SECONDS);
            Thread.sleep(1_000);
        }
        lines().forEach(l -> System.out.println("serve: " + l));
        if (process.isAlive())
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
