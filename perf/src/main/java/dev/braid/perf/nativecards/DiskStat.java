package dev.braid.perf.nativecards;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The block layer's own read counters for the disk under a file ({@code /sys/dev/block/MAJ:MIN/stat}):
 * the same outside view of fio and of Braid, independent of how either measures itself. Between two
 * snapshots, reads completed and the summed read time give the disk's mean read latency and, over
 * the wall time, the mean number of reads in the disk (Little's law), which is what decides its IOPS.
 */
record DiskStat(long nanos, long reads, long readTicksMillis)
{
    /** The stat file of the disk (or partition) holding {@code file}, or null when there is none (tmpfs). */
    static Path statFileOf(final Path file)
    {
        try
        {
            final long dev = (Long)Files.getAttribute(file, "unix:dev");
            final long major = ((dev >>> 8) & 0xFFF) | ((dev >>> 32) & ~0xFFFL);
            final long minor = (dev & 0xFF) | ((dev >>> 12) & ~0xFFL);
            final Path stat = Path.of("/sys/dev/block/" + major + ":" + minor + "/stat");
            return Files.isReadable(stat) ? stat : null;
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return null;
        }
    }

    static DiskStat read(final Path statFile)
    {
        if (statFile == null)
        {
            return null;
        }
        try
        {
            final String[] f = Files.readString(statFile).trim().split("\\s+");
            return new DiskStat(System.nanoTime(), Long.parseLong(f[0]), Long.parseLong(f[3]));
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    /** "disk: N reads/s, L us/read, D in flight" from this snapshot to {@code later}. */
    String describeTo(final DiskStat later)
    {
        final double seconds = (later.nanos - nanos) / 1e9;
        final long count = later.reads - this.reads;
        final double ticks = later.readTicksMillis - this.readTicksMillis;
        return String.format("disk %.0f reads/s %.0f us/read %.1f in flight", count / seconds,
            count == 0 ? 0 : ticks * 1e3 / count, ticks / 1e3 / seconds);
    }
}
