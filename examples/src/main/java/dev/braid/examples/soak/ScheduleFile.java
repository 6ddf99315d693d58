package dev.braid.examples.soak;

import dev.braid.sim.CardFault;
import dev.braid.sim.FaultAction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The fault schedule file: one event per line, {@code <time_ms> <card> <action> [param]}, where
 * action is a fault (fail-stop, link-down, hang, slow, error-burst, zombie), heal or rejoin. Blank
 * lines and {@code #} comments are ignored. Params: link-down = ms until the link returns by itself
 * (0: until healed), slow = latency factor, error-burst = failing requests, zombie = ms of delay for
 * stale completions. Example:
 *
 * <pre>
 * # t(ms) card action   param
 * 2000     0    fail-stop
 * 3500     0    rejoin
 * 5000     1    slow     20
 * 6000     1    heal
 * </pre>
 *
 * Times and params are at most {@link #MAX_VALUE} (ms: 11.6 days), so that no conversion to
 * nanoseconds overflows. A bad line gives one {@link UsageException}: {@code file:line: problem}.
 */
public final class ScheduleFile
{
    /** The largest time (ms) or param accepted: 1e9 ms is 1e15 ns, far from a long's range. */
    public static final long MAX_VALUE = 1_000_000_000L;

    /** One parsed line. */
    public record Entry(long atNanos, int card, FaultAction action, CardFault fault, long param)
    {
    }

    private ScheduleFile()
    {
    }

    public static List<Entry> read(final Path file, final int cards)
    {
        final List<String> lines;
        try
        {
            lines = Files.readAllLines(file);
        }
        catch (final IOException ex)
        {
            throw new UsageException("--faults: cannot read schedule file " + file + ": " + ex.getMessage());
        }
        return parse(file.toString(), lines, cards);
    }

    public static List<Entry> parse(final String name, final List<String> lines, final int cards)
    {
        final List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++)
        {
            final String line = strip(lines.get(i));
            if (line.isEmpty())
            {
                continue;
            }
            final String where = name + ":" + (i + 1) + ": ";
            final String[] f = line.split("\\s+");
            if (f.length < 3 || f.length > 4)
            {
                throw new UsageException(where + "expected '<time_ms> <card> <action> [param]', got '" + line + "'");
            }
            final double ms;
            try
            {
                ms = Double.parseDouble(f[0]);
            }
            catch (final NumberFormatException ex)
            {
                throw new UsageException(where + "time must be milliseconds, 0.." + MAX_VALUE + ": " + f[0]);
            }
            if (!(ms >= 0 && ms <= MAX_VALUE))
            {
                throw new UsageException(where + "time must be milliseconds, 0.." + MAX_VALUE + ": " + f[0]);
            }
            final int card;
            try
            {
                card = Integer.parseInt(f[1]);
            }
            catch (final NumberFormatException ex)
            {
                throw new UsageException(where + "card must be a number 0.." + (cards - 1) + ": " + f[1]);
            }
            if (card < 0 || card >= cards)
            {
                throw new UsageException(where + "card must be 0.." + (cards - 1) + ": " + card);
            }
            final String action = f[2].toLowerCase(Locale.ROOT);
            long param = 0;
            if (f.length == 4)
            {
                try
                {
                    param = Long.parseLong(f[3]);
                }
                catch (final NumberFormatException ex)
                {
                    throw new UsageException(where + "param must be a whole number 0.." + MAX_VALUE + ": " + f[3]);
                }
                if (param < 0 || param > MAX_VALUE)
                {
                    throw new UsageException(where + "param must be 0.." + MAX_VALUE + ": " + f[3]);
                }
            }
            final long at = Math.round(ms * 1e6);
            switch (action)
            {
                case "heal":
                case "rejoin":
                    if (f.length == 4)
                    {
                        throw new UsageException(where + action + " takes no param: " + f[3]);
                    }
                    entries.add(new Entry(at, card, action.equals("heal") ? FaultAction.HEAL : FaultAction.REJOIN,
                        CardFault.HEALTHY, 0));
                    break;
                default:
                    final CardFault fault = fault(action);
                    if (fault == null)
                    {
                        throw new UsageException(where + "unknown action '" + f[2] + "' (valid: fail-stop, link-down, " +
                            "hang, slow, error-burst, zombie, heal, rejoin)");
                    }
                    if ((fault == CardFault.FAIL_STOP || fault == CardFault.HANG) && f.length == 4)
                    {
                        throw new UsageException(where + action + " takes no param: " + f[3]);
                    }
                    if (fault == CardFault.SLOW && param < 1)
                    {
                        param = 10;
                    }
                    if (fault == CardFault.ERROR_BURST && param < 1)
                    {
                        param = 16;
                    }
                    if (fault == CardFault.LINK_DOWN || fault == CardFault.ZOMBIE)
                    {
                        param *= 1_000_000L;
                    }
                    entries.add(new Entry(at, card, FaultAction.INJECT, fault, param));
            }
        }
        return entries;
    }

    private static String strip(final String line)
    {
        final int hash = line.indexOf('#');
        return (hash >= 0 ? line.substring(0, hash) : line).trim();
    }

    /** The fault named in the file's spelling (fail-stop), or null. */
    public static CardFault fault(final String name)
    {
        for (final CardFault fault : CardFault.values())
        {
            if (fault != CardFault.HEALTHY && fault.name().replace('_', '-').equalsIgnoreCase(name))
            {
                return fault;
            }
        }
        return null;
    }
}
