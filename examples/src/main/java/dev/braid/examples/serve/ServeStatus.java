package dev.braid.examples.serve;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.FrontQueue;
import dev.braid.aggregator.QueueStats;
import dev.braid.examples.soak.SoakRig;
import dev.braid.ha.FailoverLog;
import dev.braid.ha.HealthState;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What {@code braid serve} has done: requests completed, guest errors, failovers, card states,
 * summed over every front end served so far (each connection has its own aggregated device; the
 * totals of one are kept when the next starts). Sampled by the serve loop ({@link #sample}), one
 * thread; the device's counters and failover log are safe to read from it. Draws a live line
 * (carriage return, about once a second) when asked to, and gives the same figures as a final
 * report.
 */
public final class ServeStatus
{
    public static final long LINE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Supplier<AggregatedDevice<?>> running;
    private final List<String> cardNames;
    private final PrintWriter line;
    private final long startNanos;
    private final FailoverLog.Entry entry = new FailoverLog.Entry();
    private java.util.function.Consumer<String> events = line -> {};

    private AggregatedDevice<?> current;
    private long logSeq;
    private long doneBefore;
    private long errorsBefore;
    private long failovers;
    private long devices;
    private String lastStates = "";
    private long nextLineNanos;
    private long lastLineNanos;
    private long lastLineDone;
    private double iops;
    private boolean drawn;

    /**
     * @param running the device of the connection being served, or null between connections.
     * @param line    where the live line goes (a terminal), or null for none.
     */
    public ServeStatus(final Supplier<AggregatedDevice<?>> running, final List<String> cardNames, final PrintWriter line,
        final long nowNanos)
    {
        this.running = running;
        this.cardNames = List.copyOf(cardNames);
        this.line = line;
        this.startNanos = nowNanos;
        this.nextLineNanos = nowNanos + LINE_INTERVAL_NANOS;
        this.lastLineNanos = nowNanos;
    }

    /** Where each card's health change goes, one line each (the serve log); none by default. */
    public ServeStatus events(final java.util.function.Consumer<String> events)
    {
        this.events = events;
        return this;
    }

    /**
     * Whether this process talks to a terminal. JDK 22+ gives a {@link java.io.Console} on redirected
     * streams too and says which through {@code isTerminal()}, which release 17 cannot name.
     */
    public static boolean isTerminal()
    {
        final java.io.Console console = System.console();
        if (console == null)
        {
            return false;
        }
        try
        {
            return (Boolean)java.io.Console.class.getMethod("isTerminal").invoke(console);
        }
        catch (final ReflectiveOperationException ex)
        {
            return true; // JDK 17..21: a console exists only on a terminal
        }
    }

    /** Reads the device (and finishes reading one that ended); draws the line when it is due. */
    public void sample(final long nowNanos)
    {
        final AggregatedDevice<?> now = running.get();
        if (now != current)
        {
            if (current != null)
            {
                readLog(current);
                doneBefore += completed(current);
                errorsBefore += counter(current, QueueStats.GUEST_ERRORS);
            }
            current = now;
            logSeq = 0;
            if (now != null)
            {
                devices++;
            }
        }
        if (current != null)
        {
            readLog(current);
            lastStates = SoakRig.cardStates(current);
        }
        if (nowNanos >= nextLineNanos)
        {
            final long done = completed();
            iops = (done - lastLineDone) * 1e9 / Math.max(1, nowNanos - lastLineNanos);
            lastLineDone = done;
            lastLineNanos = nowNanos;
            nextLineNanos = nowNanos + LINE_INTERVAL_NANOS;
            if (line != null)
            {
                line.print("\r" + text(nowNanos) + "   ");
                line.flush();
                drawn = true;
            }
        }
    }

    /** Ends the live line, if one was drawn, so that what follows starts on a fresh line. */
    public void finishLine()
    {
        if (drawn && line != null)
        {
            line.println();
            line.flush();
            drawn = false;
        }
    }

    /** The live line's figures: uptime, IOPS over the last second, requests, failovers, card states. */
    public String text(final long nowNanos)
    {
        return String.format(Locale.ROOT, "%.0fs  %,.0f IOPS  %,d requests  %d guest error(s)  failovers %d  cards %s",
            (nowNanos - startNanos) / 1e9, iops, completed(), guestErrors(), failovers, states());
    }

    /** The final report: one line per figure. {@code connections} from the server. */
    public String report(final long nowNanos, final long connections, final ServeFaults faults)
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "braid serve: report: up %.1fs, %d connection(s), %d device start(s)%n",
            (nowNanos - startNanos) / 1e9, connections, devices));
        sb.append(String.format(Locale.ROOT, "braid serve: report: %,d requests completed, %d guest error(s)%n",
            completed(), guestErrors()));
        sb.append(String.format(Locale.ROOT, "braid serve: report: failovers %d, cards %s (%s)%n", failovers, states(),
            String.join(" ", cardNames)));
        if (faults != null && faults.planned() > 0)
        {
            sb.append("braid serve: report: faults " + faults.spec() + ": " + faults.applied() + " of " + faults.planned() +
                " event(s) applied" + System.lineSeparator());
        }
        return sb.toString();
    }

    public long completed()
    {
        return doneBefore + (current == null ? 0 : completed(current));
    }

    public long guestErrors()
    {
        return errorsBefore + (current == null ? 0 : counter(current, QueueStats.GUEST_ERRORS));
    }

    /** Times a card went down (a fence and failover of its queues), over all connections. */
    public long failovers()
    {
        return failovers;
    }

    /** One letter per card (its health state's initial), as last seen; '-' before any device ran. */
    public String states()
    {
        return lastStates.isEmpty() ? "-".repeat(cardNames.size()) : lastStates;
    }

    private void readLog(final AggregatedDevice<?> device)
    {
        final FailoverLog log = device.failoverLog();
        final long appended = log.appended();
        if (logSeq < appended - log.capacity())
        {
            logSeq = appended - log.capacity();
        }
        for (; logSeq < appended; logSeq++)
        {
            if (!log.read(logSeq, entry))
            {
                continue;
            }
            if (entry.to() == HealthState.DOWN && entry.from() != HealthState.DOWN)
            {
                failovers++;
            }
            final int card = entry.card();
            events.accept(String.format(Locale.ROOT, "braid serve: card %s %s -> %s (%s), map epoch %d",
                card < cardNames.size() ? cardNames.get(card) : "#" + card, entry.from(), entry.to(),
                entry.reason().name().toLowerCase(Locale.ROOT).replace('_', ' '), entry.epoch()));
        }
    }

    private static long completed(final AggregatedDevice<?> device)
    {
        return counter(device, QueueStats.COMPLETED);
    }

    private static long counter(final AggregatedDevice<?> device, final int counter)
    {
        long sum = 0;
        for (int q = 0; q < device.guestQueueCount(); q++)
        {
            final FrontQueue queue = device.frontQueue(q);
            sum += queue == null ? 0 : queue.stats().get(counter);
        }
        return sum;
    }
}
