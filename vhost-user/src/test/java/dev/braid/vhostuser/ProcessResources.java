package dev.braid.vhostuser;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Open fds and memfd mappings of this process, to prove that a connection leaks neither. */
final class ProcessResources
{
    private ProcessResources()
    {
    }

    /** Open fds, less the JVM's passing ones (see {@link #fdTargets()}). */
    static int openFds()
    {
        return fdTargets().size();
    }

    /** Every open fd with what it points at, for a readable diff when a count is off. */
    static java.util.TreeSet<String> fdTargets()
    {
        final java.util.TreeSet<String> targets = new java.util.TreeSet<>();
        final File[] fds = new File("/proc/self/fd").listFiles();
        if (fds != null)
        {
            for (final File fd : fds)
            {
                try
                {
                    final String target = Files.readSymbolicLink(fd.toPath()).toString();
                    // The JVM's own short reads of its container limits and of /proc come and go.
                    if (!target.startsWith("/sys/fs/cgroup/") && !target.startsWith("/proc/"))
                    {
                        targets.add(fd.getName() + " -> " + target);
                    }
                }
                catch (final IOException ex)
                {
                    // closed while listing (the listing's own fd)
                }
            }
        }
        return targets;
    }

    /** Fails naming the fds that are open now and were not in {@code before}. */
    static void assertNoNewFds(final java.util.Set<String> before, final String when)
    {
        final java.util.TreeSet<String> now = fdTargets();
        now.removeAll(before);
        if (!now.isEmpty())
        {
            throw new AssertionError("fds leaked " + when + ": " + now + describeSockets(now));
        }
    }

    /** What kind of socket each leaked socket fd is (its line in /proc/net/unix, netlink, tcp, udp). */
    static String describeSockets(final java.util.Set<String> fds)
    {
        final StringBuilder sb = new StringBuilder();
        for (final String fd : fds)
        {
            final int at = fd.indexOf("socket:[");
            if (at < 0)
            {
                continue;
            }
            final String inode = fd.substring(at + 8, fd.indexOf(']', at));
            for (final String table : new String[] {"unix", "netlink", "tcp", "tcp6", "udp", "udp6"})
            {
                try (var lines = Files.lines(Path.of("/proc/net", table)))
                {
                    lines.filter(l -> (" " + l + " ").contains(" " + inode + " ")).findFirst()
                        .ifPresent(l -> sb.append("; ").append(inode).append(" in /proc/net/").append(table).append(": ").append(l.trim()));
                }
                catch (final IOException | RuntimeException ignored)
                {
                    // table absent
                }
            }
            try
            {
                final Process ss = new ProcessBuilder("ss", "-x", "-a", "-p").redirectErrorStream(true).start();
                final String out = new String(ss.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                ss.waitFor();
                out.lines().filter(l -> l.contains(" " + inode + " ")).forEach(l -> sb.append("; ss: ").append(l.trim()));
            }
            catch (final IOException | InterruptedException | RuntimeException ignored)
            {
                // no ss
            }
        }
        return sb.toString();
    }

    /** Mappings of memfds named {@code name} (lines of /proc/self/maps). */
    static long mappings(final String name) throws IOException
    {
        try (var lines = Files.lines(Path.of("/proc/self/maps")))
        {
            return lines.filter(l -> l.contains("memfd:" + name)).count();
        }
    }

    /** Waits (bounded) until the server finished {@code n} connections. */
    static void awaitServed(final VhostUserServer server, final long n) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (server.connectionsServed() < n && System.nanoTime() < deadline)
        {
            Thread.sleep(2);
        }
        if (server.connectionsServed() < n)
        {
            throw new AssertionError("server did not finish connection " + n);
        }
    }
}
