package dev.braid.testkit.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one guest run reported: the parsed markers, QEMU's exit, timings from QEMU's start (host
 * clock), and the console log, which stays under {@code target/guest-logs/} as the test's artifact.
 */
public record GuestResult(
    String name,
    Accelerator.Choice accelerator,
    Map<String, String> results,
    int doneRc,
    long bootedAfterNanos,
    long doneAfterNanos,
    int qemuExitCode,
    boolean timedOut,
    Path consoleLog)
{
    /** Whether the guest script ran to BRAID-DONE with rc=0. */
    public boolean succeeded()
    {
        return doneRc == 0;
    }

    /** A BRAID-RESULT value; fails with the log's tail if the guest did not report it. */
    public String result(final String key)
    {
        final String value = results.get(key);
        if (value == null)
        {
            throw new AssertionError("guest " + name + " reported no BRAID-RESULT " + key + " (got " + results + ")\n" +
                describe());
        }
        return value;
    }

    /** Throws with the reason and the console's tail unless the guest reached BRAID-DONE rc=0. */
    public GuestResult assertSucceeded()
    {
        if (!succeeded())
        {
            throw new AssertionError(describe());
        }
        return this;
    }

    public double bootedAfterSeconds()
    {
        return bootedAfterNanos / 1e9;
    }

    public double doneAfterSeconds()
    {
        return doneAfterNanos / 1e9;
    }

    /** One line for the test's output. */
    public String summary()
    {
        return String.format(Locale.ROOT, "guest %s: accel=%s booted=%s done=%s rc=%d qemu-exit=%d%s log=%s",
            name, accelerator.accelerator().name().toLowerCase(Locale.ROOT), seconds(bootedAfterNanos), seconds(doneAfterNanos),
            doneRc, qemuExitCode, timedOut ? " TIMED-OUT" : "", consoleLog);
    }

    /** Seconds with millisecond digits, or "never" for a marker that did not come. */
    static String seconds(final long nanos)
    {
        return nanos < 0 ? "never" : String.format(Locale.ROOT, "%.3fs", nanos / 1e9);
    }

    /** Why it failed, with the last console lines. */
    public String describe()
    {
        final String why = timedOut ? "timed out" :
            doneRc < 0 ? "QEMU exited (rc=" + qemuExitCode + ") before BRAID-DONE" :
            "guest script failed with rc=" + doneRc;
        return "guest " + name + " " + why + " [accel=" + accelerator.accelerator() + "]; console " + consoleLog +
            " ends with:\n" + tail(40);
    }

    /** The last {@code lines} lines of the console log. */
    public String tail(final int lines)
    {
        try
        {
            final List<String> all = Files.readAllLines(consoleLog, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        }
        catch (final IOException ex)
        {
            return "(cannot read " + consoleLog + ": " + ex.getMessage() + ")";
        }
    }
}
