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

    static int openFds()
    {
        final String[] names = new File("/proc/self/fd").list();
        return names == null ? -1 : names.length;
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
