package dev.braid.testkit.guest;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the marker lines a guest prints on its console: {@code BRAID-BOOTED} (the initramfs is
 * running), {@code BRAID-RESULT key=value} (any number; a later value for a key replaces the earlier
 * one) and {@code BRAID-DONE rc=N}. A marker may follow kernel output on the same line (the console is
 * shared), so it is found anywhere in the line. Fed by the console reader thread only; the run reads
 * the parsed values after joining that thread, or through the volatile flags while it runs.
 */
public final class ConsoleMarkers
{
    public static final String BOOTED = "BRAID-BOOTED";
    public static final String RESULT = "BRAID-RESULT";
    public static final String DONE = "BRAID-DONE";

    private static final Pattern RESULT_LINE = Pattern.compile(RESULT + " ([A-Za-z0-9_.\\-]+)=(.*)$");
    private static final Pattern DONE_LINE = Pattern.compile(DONE + " rc=(\\d+)");

    private final Map<String, String> results = new LinkedHashMap<>();
    private final long startNanos;
    private volatile long bootedNanos = -1;
    private volatile long doneNanos = -1;
    private volatile int doneRc = -1;

    public ConsoleMarkers(final long startNanos)
    {
        this.startNanos = startNanos;
    }

    /** Reads one console line (without its line terminator), stamped with {@code nowNanos}. */
    public void onLine(final String rawLine, final long nowNanos)
    {
        final String line = rawLine.replace("\r", "");
        if (bootedNanos < 0 && line.contains(BOOTED))
        {
            bootedNanos = nowNanos;
        }
        final Matcher result = RESULT_LINE.matcher(line);
        if (result.find())
        {
            synchronized (results)
            {
                results.put(result.group(1), result.group(2).trim());
            }
            return;
        }
        final Matcher done = DONE_LINE.matcher(line);
        if (doneNanos < 0 && done.find())
        {
            doneRc = Integer.parseInt(done.group(1));
            doneNanos = nowNanos;
        }
    }

    public boolean done()
    {
        return doneNanos >= 0;
    }

    /** The guest script's exit status, or -1 if it never reported one. */
    public int doneRc()
    {
        return doneRc;
    }

    /** Nanoseconds from QEMU's start to BRAID-BOOTED, or -1. */
    public long bootedAfterNanos()
    {
        return bootedNanos < 0 ? -1 : bootedNanos - startNanos;
    }

    /** Nanoseconds from QEMU's start to BRAID-DONE, or -1. */
    public long doneAfterNanos()
    {
        return doneNanos < 0 ? -1 : doneNanos - startNanos;
    }

    public Map<String, String> results()
    {
        synchronized (results)
        {
            return Map.copyOf(results);
        }
    }
}
