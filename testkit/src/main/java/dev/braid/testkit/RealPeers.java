package dev.braid.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Real peers (QEMU, qemu-nbd, nbdkit, ip, /dev/net/tun, ...) that a test needs. A missing peer skips
 * the test with one loud line naming it, and JUnit counts it as skipped; under {@code CI=true} it
 * fails the test instead, because CI installs every peer (see {@code ./test} and {@code .ci/peers/}).
 */
public final class RealPeers
{
    private RealPeers()
    {
    }

    /** Whether a missing peer is a failure rather than a skip. */
    public static boolean strict()
    {
        final String ci = System.getenv("CI");
        return ci != null && ci.toLowerCase(Locale.ROOT).equals("true");
    }

    /** Requires an executable on the PATH (or an absolute path); returns its path. */
    public static Path requireExecutable(final String name)
    {
        final Path found = findExecutable(name);
        if (found == null)
        {
            missing(name, "not on PATH");
        }
        return found;
    }

    /** Requires a file or device node to exist (for example {@code /dev/net/tun}, a guest kernel). */
    public static Path requireFile(final String path)
    {
        final Path p = Path.of(path);
        if (!Files.exists(p))
        {
            missing(path, "does not exist");
        }
        return p;
    }

    /** Requires root (TAPs, bridges, namespaces). */
    public static void requireRoot()
    {
        final String user = System.getProperty("user.name");
        if (!"root".equals(user))
        {
            missing("root", "tests run as " + user);
        }
    }

    /** Requires an arbitrary condition, named for the loud line. */
    public static void require(final boolean present, final String peer, final String why)
    {
        if (!present)
        {
            missing(peer, why);
        }
    }

    /** Path of an executable, or null. */
    public static Path findExecutable(final String name)
    {
        if (name.indexOf('/') >= 0)
        {
            final Path p = Path.of(name);
            return Files.isExecutable(p) ? p : null;
        }
        final String path = System.getenv("PATH");
        final String[] dirs = (path == null ? "" : path + ":") .concat("/usr/sbin:/sbin:/usr/bin:/bin").split(":");
        for (final String dir : dirs)
        {
            if (dir.isEmpty())
            {
                continue;
            }
            final Path p = Path.of(dir, name);
            if (Files.isExecutable(p))
            {
                return p;
            }
        }
        return null;
    }

    private static void missing(final String peer, final String why)
    {
        final String line = "!!! REAL PEER MISSING: " + peer + " (" + why + ")" +
            (strict() ? ": FAILING because CI=true" : ": test SKIPPED; run ./test as root on Debian to install it");
        System.err.println(line);
        if (strict())
        {
            Assertions.fail(line);
        }
        Assumptions.abort(line);
    }
}
