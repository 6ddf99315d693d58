package dev.braid.testkit.guest;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One QEMU process booted by {@link GuestRun#start()}: its console copier thread (the only writer
 * of the log and the markers), a shutdown hook that kills QEMU if the JVM exits first, and the temp
 * directory. Owned by the test thread: {@link #awaitResult()} once, then {@link #close()}, which
 * is idempotent and leaves no process, thread, hook or temp file behind.
 */
public final class RunningGuest implements AutoCloseable
{
    private static final long POWEROFF_GRACE_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final String name;
    private final Accelerator.Choice accelerator;
    private final Path log;
    private final Path temp;
    private final Path monitor;
    private final Duration timeout;
    private final long startNanos;
    private final ConsoleMarkers markers;
    private final Process process;
    private final Thread reader;
    private final Thread hook;
    private boolean closed;
    private boolean awaited;

    private RunningGuest(
        final String name, final Accelerator.Choice accelerator, final Path log, final Path temp, final Path monitor,
        final Duration timeout, final long startNanos, final Process process, final BufferedWriter console)
    {
        this.monitor = monitor;
        this.name = name;
        this.accelerator = accelerator;
        this.log = log;
        this.temp = temp;
        this.timeout = timeout;
        this.startNanos = startNanos;
        this.markers = new ConsoleMarkers(startNanos);
        this.process = process;
        this.hook = new Thread(() ->
        {
            kill(process);
            deleteTree(temp);
        }, "braid-guest-kill-" + name);
        Runtime.getRuntime().addShutdownHook(hook);
        this.reader = new Thread(() -> copyConsole(process, console, markers), "braid-guest-console-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    static RunningGuest launch(
        final String name, final Accelerator.Choice accelerator, final List<String> cmd, final String header,
        final Path log, final Path temp, final Duration timeout, final Path monitor) throws IOException
    {
        final BufferedWriter console = Files.newBufferedWriter(log, StandardCharsets.ISO_8859_1);
        try
        {
            console.write(header);
            console.flush();
            final long start = System.nanoTime();
            final Process process = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
            return new RunningGuest(name, accelerator, log, temp, monitor, timeout, start, process, console);
        }
        catch (final IOException | RuntimeException ex)
        {
            console.close();
            throw ex;
        }
    }

    public Path consoleLog()
    {
        return log;
    }

    /** QEMU's pid, e.g. to count its open fds or to signal it. */
    public long pid()
    {
        return process.pid();
    }

    /**
     * Waits until the guest reports BRAID-RESULT {@code key}, QEMU exits, or {@code wait} passes
     * (never past the run's own timeout); returns the value, or null.
     */
    public String awaitResult(final String key, final Duration wait) throws InterruptedException
    {
        final long deadline = Math.min(System.nanoTime() + wait.toNanos(), startNanos + timeout.toNanos());
        while (true)
        {
            final String value = markers.results().get(key);
            if (value != null || !process.isAlive() || System.nanoTime() - deadline > 0)
            {
                return value;
            }
            Thread.sleep(10);
        }
    }

    /** Waits for the guest to power off, for the run's timeout, or for QEMU to exit; QEMU is gone afterwards. */
    public GuestResult awaitResult() throws InterruptedException, IOException
    {
        awaited = true;
        final long deadline = startNanos + timeout.toNanos();
        boolean timedOut = false;
        String killed = "";
        while (!process.waitFor(20, TimeUnit.MILLISECONDS))
        {
            final long now = System.nanoTime();
            // After BRAID-DONE the guest powers off; a guest that halts instead is killed after a grace.
            if (now - deadline > 0 || (markers.done() && now - (startNanos + markers.doneAfterNanos()) > POWEROFF_GRACE_NANOS))
            {
                timedOut = !markers.done();
                killed = timedOut ? " (killed: timeout " + timeout + ")" : " (killed: no power-off after BRAID-DONE)";
                break;
            }
        }
        final String rings = timedOut && monitor != null ? QemuMonitor.dump(monitor, 10_000) : "";
        if (!rings.isEmpty())
        {
            System.out.println("guest " + name + " timed out; QEMU's monitor says:\n" + rings);
        }
        kill(process);
        reader.join(TimeUnit.SECONDS.toMillis(5));
        final int exit = process.isAlive() ? -1 : process.exitValue();
        try (BufferedWriter tail = Files.newBufferedWriter(log, StandardCharsets.ISO_8859_1, StandardOpenOption.APPEND))
        {
            if (!rings.isEmpty())
            {
                tail.write("### timed out; QEMU's monitor said:\n" + rings);
            }
            tail.write("### qemu exit=" + exit + killed + " booted=" + GuestResult.seconds(markers.bootedAfterNanos()) +
                " done=" + GuestResult.seconds(markers.doneAfterNanos()) + " rc=" + markers.doneRc() + "\n");
        }
        final GuestResult result = new GuestResult(name, accelerator, markers.results(), markers.doneRc(),
            markers.bootedAfterNanos(), markers.doneAfterNanos(), exit, timedOut, log);
        System.out.println(result.summary());
        return result;
    }

    /** Kills QEMU if it still runs, stops the console copier, removes the hook and the temp files. */
    @Override
    public void close() throws InterruptedException
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final boolean wasAlive = process.isAlive();
        kill(process);
        reader.join(TimeUnit.SECONDS.toMillis(5));
        if (!awaited)
        {
            try (BufferedWriter tail = Files.newBufferedWriter(log, StandardCharsets.ISO_8859_1, StandardOpenOption.APPEND))
            {
                tail.write("### closed by the test" + (wasAlive ? ", qemu killed" : ", qemu exit=" + process.exitValue()) + "\n");
            }
            catch (final IOException ex)
            {
                System.err.println("guest console log " + log + " not completed: " + ex);
            }
        }
        try
        {
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        catch (final IllegalStateException ignored)
        {
            // The JVM is already shutting down: the hook kills QEMU itself.
        }
        deleteTree(temp);
    }

    private static void copyConsole(final Process process, final BufferedWriter console, final ConsoleMarkers markers)
    {
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.ISO_8859_1)); console)
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                markers.onLine(line, System.nanoTime());
                console.write(line);
                console.write('\n');
                console.flush();
            }
        }
        catch (final IOException ex)
        {
            // QEMU was killed mid-line, or the log cannot be written: the run's result says what it saw.
            System.err.println("guest console copy stopped: " + ex);
        }
    }

    private static void kill(final Process process)
    {
        if (!process.isAlive())
        {
            return;
        }
        process.destroy();
        try
        {
            if (!process.waitFor(2, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Best effort, from close() or the shutdown hook: a failure is one line, not a masked exception. */
    static void deleteTree(final Path root)
    {
        if (!Files.exists(root))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(root))
        {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException | UncheckedIOException ex)
        {
            System.err.println("guest temp dir " + root + " not fully deleted: " + ex);
        }
    }
}
