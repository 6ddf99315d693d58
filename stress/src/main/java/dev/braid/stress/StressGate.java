package dev.braid.stress;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs jcstress (the uber jar this class lives in) in a child JVM, echoes its output, and turns
 * the verdict into an exit code the build can act on: jcstress 0.16 itself exits 0 even when tests
 * fail. The run passes only if jcstress printed its final report, that report lists no failed and
 * no error tests, at least one test ran, and the whole run ended within the time limit.
 *
 * <p>Usage: {@code java -cp jcstress.jar dev.braid.stress.StressGate [--timeout-seconds N] <jcstress options>}
 */
public final class StressGate
{
    static final String FAILED_PREFIX = "Failed tests:";
    static final String ERROR_PREFIX = "Error tests:";
    static final String NO_MATCHES = "No matches.";
    static final String REPORT_HEADER = "RUN RESULTS:";
    static final String PROGRESS_PREFIX = "(Results: ";

    private StressGate()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        long timeoutSeconds = 0;
        final List<String> jcstressArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++)
        {
            if ("--timeout-seconds".equals(args[i]) && i + 1 < args.length)
            {
                timeoutSeconds = Long.parseLong(args[++i]);
            }
            else if (!args[i].isBlank())
            {
                jcstressArgs.add(args[i]);
            }
        }
        System.exit(run(jcstressArgs, timeoutSeconds));
    }

    static int run(final List<String> jcstressArgs, final long timeoutSeconds) throws Exception
    {
        final String jar = new File(StressGate.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
        final String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        final List<String> command = new ArrayList<>(List.of(java, "-jar", jar));
        command.addAll(jcstressArgs);
        System.out.println("[stress-gate] " + String.join(" ", command));

        final long start = System.nanoTime();
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final Verdict verdict = new Verdict();
        final Thread pump = new Thread(() -> pump(process, verdict), "stress-gate-pump");
        pump.setDaemon(true);
        pump.start();

        boolean exited = true;
        if (timeoutSeconds > 0)
        {
            exited = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        }
        else
        {
            process.waitFor();
        }
        if (!exited)
        {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor();
        }
        pump.join(TimeUnit.SECONDS.toMillis(10));
        final long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);

        final String problem = !exited ? "timed out after " + timeoutSeconds + " s" : verdict.problem(process.exitValue());
        if (problem != null)
        {
            System.out.println("[stress-gate] FAILED in " + seconds + " s: " + problem);
            return 1;
        }
        System.out.println("[stress-gate] passed in " + seconds + " s: " + verdict.summary);
        return 0;
    }

    private static void pump(final Process process, final Verdict verdict)
    {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = reader.readLine()) != null)
            {
                System.out.println(line);
                verdict.accept(line);
            }
        }
        catch (final IOException ex)
        {
            verdict.ioError = ex.toString();
        }
        System.out.flush();
    }

    /** What the jcstress output said; fed one line at a time. */
    static final class Verdict
    {
        boolean reportSeen;
        String failed;
        String errors;
        String summary = "";
        long passedCount = -1;
        volatile String ioError;

        void accept(final String rawLine)
        {
            final String line = rawLine.strip();
            if (line.startsWith(REPORT_HEADER))
            {
                reportSeen = true;
            }
            else if (reportSeen && line.startsWith(FAILED_PREFIX) && failed == null)
            {
                failed = line.substring(FAILED_PREFIX.length()).strip();
            }
            else if (reportSeen && line.startsWith(ERROR_PREFIX) && errors == null)
            {
                errors = line.substring(ERROR_PREFIX.length()).strip();
            }
            final int progress = line.lastIndexOf(PROGRESS_PREFIX);
            if (progress >= 0)
            {
                summary = line.substring(progress);
                passedCount = parsePassed(summary);
            }
        }

        /** The reason to fail the build, or null when the run is clean. */
        String problem(final int exitCode)
        {
            if (ioError != null)
            {
                return "could not read jcstress output: " + ioError;
            }
            if (exitCode != 0)
            {
                return "jcstress exited with " + exitCode;
            }
            if (!reportSeen || failed == null || errors == null)
            {
                return "jcstress printed no final report";
            }
            if (!NO_MATCHES.equals(failed))
            {
                return "failed tests: " + failed;
            }
            if (!NO_MATCHES.equals(errors))
            {
                return "error tests: " + errors;
            }
            if (passedCount <= 0)
            {
                return "no test passed (wrong filter?) " + summary;
            }
            return null;
        }

        /** The passed count from "(Results: P planned; N passed, ...)", or -1. */
        static long parsePassed(final String summary)
        {
            final int semicolon = summary.indexOf(';');
            final int passed = summary.indexOf(" passed");
            if (semicolon < 0 || passed < semicolon)
            {
                return -1;
            }
            try
            {
                return Long.parseLong(summary.substring(semicolon + 1, passed).strip());
            }
            catch (final NumberFormatException ex)
            {
                return -1;
            }
        }
    }
}
