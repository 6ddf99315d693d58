package dev.braid.examples.soak;

import java.io.PrintStream;
import java.util.Locale;

/** The one-line live status on stderr: elapsed, a bar, live IOPS, in-flight, failovers, card states. */
public final class ProgressBar implements Progress
{
    private static final int WIDTH = 24;
    private final PrintStream out;
    private boolean drawn;

    public ProgressBar(final PrintStream out)
    {
        this.out = out;
    }

    public void update(
        final long elapsedNanos, final long totalNanos, final double iops, final long inFlight, final int failovers,
        final String cardStates)
    {
        final StringBuilder bar = new StringBuilder("[");
        final double fraction = totalNanos > 0 ? Math.min(1, elapsedNanos / (double)totalNanos) : 0;
        final int filled = (int)Math.round(fraction * WIDTH);
        for (int i = 0; i < WIDTH; i++)
        {
            bar.append(i < filled ? '#' : totalNanos > 0 ? '.' : ' ');
        }
        bar.append(']');
        out.print(String.format(Locale.ROOT, "\r%s %6.1fs%s  %,10.0f IOPS  in-flight %4d  failovers %3d  cards %s   ",
            bar, elapsedNanos / 1e9, totalNanos > 0 ? String.format(Locale.ROOT, "/%.0fs", totalNanos / 1e9) : "",
            iops, inFlight, failovers, cardStates));
        out.flush();
        drawn = true;
    }

    /** Ends the line so that the report starts on a fresh one. */
    public void finish()
    {
        if (drawn)
        {
            out.println();
            out.flush();
        }
    }
}
