package dev.braid.examples.soak;

import dev.braid.sim.BandwidthCap;
import dev.braid.sim.LatencyModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Parsers for the CLI's value syntaxes: durations ({@code 30s}, {@code 10m}, {@code 500ms}),
 * latency models ({@code fixed:20us}, {@code uniform:10us-50us}, {@code lognormal:30us,0.5}),
 * bandwidths ({@code 1GB/s}, {@code 500MB/s}) and output files. Every failure is a one-line
 * {@link UsageException} naming the option.
 */
public final class Specs
{
    /** The longest latency time accepted (1 h): the models' caps (200 x a median) then never overflow. */
    public static final long MAX_LATENCY_NANOS = 3_600_000_000_000L;

    private Specs()
    {
    }

    /** A duration in nanoseconds: a number with unit ns, us, ms, s, m or h. */
    public static long durationNanos(final String option, final String text)
    {
        final long nanos = timeNanos(text);
        if (nanos <= 0)
        {
            throw new UsageException(option + " must be a positive duration like 30s, 500ms or 10m: " + text);
        }
        return nanos;
    }

    /** A time with a unit, or -1 when it does not parse. */
    public static long timeNanos(final String text)
    {
        if (text == null)
        {
            return -1;
        }
        final String t = text.trim().toLowerCase(Locale.ROOT);
        int end = 0;
        while (end < t.length() && (Character.isDigit(t.charAt(end)) || t.charAt(end) == '.'))
        {
            end++;
        }
        if (end == 0)
        {
            return -1;
        }
        final double value;
        try
        {
            value = Double.parseDouble(t.substring(0, end));
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
        final double scale;
        switch (t.substring(end))
        {
            case "ns": scale = 1; break;
            case "us": scale = 1e3; break;
            case "ms": scale = 1e6; break;
            case "s": scale = 1e9; break;
            case "m": scale = 60e9; break;
            case "h": scale = 3600e9; break;
            default: return -1;
        }
        final double nanos = value * scale;
        return nanos >= Long.MAX_VALUE / 2.0 ? -1 : Math.round(nanos);
    }

    /** A latency model: fixed:T, uniform:T1-T2, exponential:MIN,MEAN_EXTRA, lognormal:MEDIAN[,SIGMA]. */
    public static LatencyModel latency(final String text)
    {
        final String bad = "--latency must be fixed:20us, uniform:10us-50us, exponential:10us,20us or lognormal:30us[,0.5]: ";
        final int colon = text.indexOf(':');
        if (colon < 0)
        {
            throw new UsageException(bad + text);
        }
        final String kind = text.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        final String args = text.substring(colon + 1);
        switch (kind)
        {
            case "fixed":
            {
                final long t = latencyTime(args, text);
                if (t < 0)
                {
                    throw new UsageException(bad + text);
                }
                return LatencyModel.fixed(t);
            }
            case "uniform":
            {
                final String[] parts = args.split("-");
                final long lo = parts.length == 2 ? latencyTime(parts[0], text) : -1;
                final long hi = parts.length == 2 ? latencyTime(parts[1], text) : -1;
                if (lo < 0 || hi < lo)
                {
                    throw new UsageException(bad + text);
                }
                return LatencyModel.uniform(lo, hi);
            }
            case "exponential":
            {
                final String[] parts = args.split(",");
                final long min = parts.length == 2 ? latencyTime(parts[0], text) : -1;
                final long extra = parts.length == 2 ? latencyTime(parts[1], text) : -1;
                if (min < 0 || extra <= 0)
                {
                    throw new UsageException(bad + text);
                }
                return LatencyModel.exponential(min, extra, min + extra * 50);
            }
            case "lognormal":
            {
                final String[] parts = args.split(",");
                final long median = latencyTime(parts[0], text);
                double sigma = 0.5;
                if (parts.length > 2 || median <= 0)
                {
                    throw new UsageException(bad + text);
                }
                if (parts.length == 2)
                {
                    try
                    {
                        sigma = Double.parseDouble(parts[1].trim());
                    }
                    catch (final NumberFormatException ex)
                    {
                        throw new UsageException(bad + text);
                    }
                    if (!(sigma > 0 && sigma < 5))
                    {
                        throw new UsageException(bad + text);
                    }
                }
                return LatencyModel.logNormal(median, sigma, 0.001, 20, median * 200);
            }
            default:
                throw new UsageException(bad + text);
        }
    }

    /** A time inside a latency spec: -1 when it does not parse; above {@link #MAX_LATENCY_NANOS} a usage error. */
    private static long latencyTime(final String part, final String text)
    {
        final long t = timeNanos(part);
        if (t > MAX_LATENCY_NANOS)
        {
            throw new UsageException("--latency times must be at most 1h: " + text);
        }
        return t;
    }

    /**
     * Median service time of a (valid) latency spec: fixed T, the middle of uniform, min + ln 2 x
     * mean extra for exponential, the median of lognormal. Half the requests take at least this.
     */
    public static long medianLatencyNanos(final String text)
    {
        final String args = text.substring(text.indexOf(':') + 1);
        final String kind = text.substring(0, text.indexOf(':')).trim().toLowerCase(Locale.ROOT);
        switch (kind)
        {
            case "uniform":
            {
                final String[] parts = args.split("-");
                return (timeNanos(parts[0]) + timeNanos(parts[1])) / 2;
            }
            case "exponential":
            {
                final String[] parts = args.split(",");
                return timeNanos(parts[0]) + Math.round(timeNanos(parts[1]) * Math.log(2));
            }
            default:
                return timeNanos(args.split(",")[0]);
        }
    }

    /** Mean service time of a latency spec, for sizing fault horizons; rough for the skewed models. */
    public static long meanLatencyNanos(final String text)
    {
        final String args = text.substring(text.indexOf(':') + 1);
        if (text.startsWith("uniform"))
        {
            final String[] parts = args.split("-");
            return (timeNanos(parts[0]) + timeNanos(parts[1])) / 2;
        }
        if (text.startsWith("exponential"))
        {
            final String[] parts = args.split(",");
            return timeNanos(parts[0]) + timeNanos(parts[1]);
        }
        return Math.max(1, timeNanos(args.split(",")[0]));
    }

    /** A bandwidth in bytes per second: a number with B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB, then /s. */
    public static long bandwidthBytesPerSecond(final String text)
    {
        final String bad = "--bandwidth must look like 1GB/s, 500MB/s or 2GiB/s: ";
        final String t = text.trim();
        if (!t.endsWith("/s"))
        {
            throw new UsageException(bad + text);
        }
        final String body = t.substring(0, t.length() - 2);
        int end = 0;
        while (end < body.length() && (Character.isDigit(body.charAt(end)) || body.charAt(end) == '.'))
        {
            end++;
        }
        final double scale;
        switch (body.substring(end))
        {
            case "B": scale = 1; break;
            case "KB": scale = 1e3; break;
            case "MB": scale = 1e6; break;
            case "GB": scale = 1e9; break;
            case "KiB": scale = 1024; break;
            case "MiB": scale = 1024 * 1024; break;
            case "GiB": scale = 1024.0 * 1024 * 1024; break;
            default: throw new UsageException(bad + text);
        }
        try
        {
            final double value = Double.parseDouble(body.substring(0, end)) * scale;
            if (!(value >= 1 && value < 1e15))
            {
                throw new UsageException(bad + text);
            }
            return Math.round(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new UsageException(bad + text);
        }
    }

    /**
     * Checks an output file option (null: not given) before any work: its directory must exist and
     * be writable, and it must not be a directory; finding out after a long run would lose the result.
     */
    public static void outputFile(final String option, final Path file)
    {
        if (file == null)
        {
            return;
        }
        final Path parent = file.toAbsolutePath().normalize().getParent();
        if (Files.isDirectory(file))
        {
            throw new UsageException(option + " names a directory, not a file: " + file);
        }
        if (parent == null || !Files.isDirectory(parent))
        {
            throw new UsageException(option + " needs an existing directory: " + file);
        }
        if (!Files.isWritable(parent))
        {
            throw new UsageException(option + " needs a writable directory: " + file);
        }
    }

    /** A dotted IPv4 address as an int (big-endian), e.g. 10.0.0.2. */
    public static int ipv4(final String option, final String text)
    {
        final String[] parts = text.trim().split("\\.", -1);
        int ip = 0;
        try
        {
            if (parts.length != 4)
            {
                throw new NumberFormatException();
            }
            for (final String part : parts)
            {
                final int b = Integer.parseInt(part);
                if (b < 0 || b > 255 || part.isEmpty() || part.length() > 3)
                {
                    throw new NumberFormatException();
                }
                ip = (ip << 8) | b;
            }
        }
        catch (final NumberFormatException ex)
        {
            throw new UsageException(option + " must be an IPv4 address like 10.0.0.2: " + text);
        }
        if (ip == 0)
        {
            throw new UsageException(option + " must not be 0.0.0.0: " + text);
        }
        return ip;
    }

    /** A unicast MAC address aa:bb:cc:dd:ee:ff as a long. */
    public static long mac(final String option, final String text)
    {
        final String[] parts = text.trim().split(":", -1);
        long mac = 0;
        try
        {
            if (parts.length != 6)
            {
                throw new NumberFormatException();
            }
            for (final String part : parts)
            {
                if (part.length() != 2)
                {
                    throw new NumberFormatException();
                }
                mac = (mac << 8) | Integer.parseInt(part, 16);
            }
        }
        catch (final NumberFormatException ex)
        {
            throw new UsageException(option + " must be a MAC address like 52:54:00:12:34:56: " + text);
        }
        if (mac == 0 || (mac & (1L << 40)) != 0)
        {
            throw new UsageException(option + " must be a unicast, non-zero MAC address: " + text);
        }
        return mac;
    }

    /** A per-card cap with a burst of 1 ms worth of bytes (at least 64 KiB). */
    public static BandwidthCap bandwidthCap(final long bytesPerSecond)
    {
        return BandwidthCap.bytesPerSecond(bytesPerSecond, Math.max(64 * 1024, bytesPerSecond / 1000));
    }

    /** Formats nanoseconds compactly: 850ns, 12.3us, 4.56ms, 1.23s. */
    public static String nanos(final long nanos)
    {
        if (nanos < 0)
        {
            return "-";
        }
        if (nanos < 1_000)
        {
            return nanos + "ns";
        }
        if (nanos < 1_000_000)
        {
            return String.format(Locale.ROOT, "%.1fus", nanos / 1e3);
        }
        if (nanos < 1_000_000_000)
        {
            return String.format(Locale.ROOT, "%.2fms", nanos / 1e6);
        }
        return String.format(Locale.ROOT, "%.2fs", nanos / 1e9);
    }
}
