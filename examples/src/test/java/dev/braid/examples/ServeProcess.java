package dev.braid.examples;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code braid serve} as a child process, the way a user runs it, for the serve tests: its output
 * goes to a file (not a pipe), so what it printed is all there after it exited.
 */
final class ServeProcess
{
    private ServeProcess()
    {
    }

    /** Starts {@code braid serve args} on this JVM's classpath, stdin from /dev/null, stdout and stderr to {@code log}. */
    static Process start(final Path log, final String... args) throws IOException
    {
        final List<String> cmd = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), BraidCli.class.getName(), "serve"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** The lines printed so far; none before the process started. */
    static List<String> lines(final Path log) throws IOException
    {
        return log == null || !Files.exists(log) ? List.of() : Files.readAllLines(log);
    }

    /**
     * Waits until a line holds {@code part}; fails when the process exits first (unless waiting for
     * its last words, "braid serve: stopped") or after {@code seconds}, with what it printed.
     */
    static void awaitLine(final Process serve, final Path log, final String part, final long seconds)
        throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline)
        {
            if (lines(log).stream().anyMatch(l -> l.contains(part)))
            {
                return;
            }
            if (serve != null && !serve.isAlive() && !part.startsWith("braid serve: stopped"))
            {
                fail("braid serve exited " + serve.exitValue() + " before '" + part + "': " + lines(log));
            }
            Thread.sleep(10);
        }
        fail("no '" + part + "' from braid serve in " + seconds + " s: " + lines(log));
    }
}
