package dev.braid.testkit.guest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import dev.braid.testkit.RealPeers;

/**
 * The guest kernel image and its module tree. Looked up in {@code -Dbraid.guest.dir} (or
 * {@code $BRAID_GUEST_DIR}, default {@code /opt/braid-guest}, where {@code .ci/peers/20-qemu-guest.sh}
 * unpacks Debian's kernel package): {@code vmlinux} (ELF, booted through PVH, no in-guest
 * decompression) or {@code vmlinuz}, and {@code lib/modules/<version>}. Falls back to an installed
 * kernel ({@code /boot/vmlinuz-V} with {@code /lib/modules/V}).
 */
public record GuestKernel(Path image, Path modulesDir)
{
    public static final String DEFAULT_DIR = "/opt/braid-guest";

    /** The kernel, or a loud skip (a failure under CI=true) naming where it looked. */
    public static GuestKernel require()
    {
        final GuestKernel kernel = find();
        RealPeers.require(kernel != null, "guest kernel",
            "no vmlinux/vmlinuz with lib/modules/<version> in " + guestDir() + " nor in /boot with /lib/modules; " +
            "run .ci/peers/20-qemu-guest.sh as root");
        return kernel;
    }

    /** The kernel, or null. */
    public static GuestKernel find()
    {
        final Path dir = guestDir();
        final Path modules = singleVersion(dir.resolve("lib/modules"));
        if (modules != null)
        {
            for (final String image : List.of("vmlinux", "vmlinuz"))
            {
                if (Files.isRegularFile(dir.resolve(image)))
                {
                    return new GuestKernel(dir.resolve(image), modules);
                }
            }
        }
        final Path installed = Path.of("/lib/modules");
        for (final Path version : list(installed))
        {
            final Path image = Path.of("/boot/vmlinuz-" + version.getFileName());
            if (Files.isReadable(image) && Files.isDirectory(version.resolve("kernel")))
            {
                return new GuestKernel(image, version);
            }
        }
        return null;
    }

    public static Path guestDir()
    {
        final String property = System.getProperty("braid.guest.dir");
        final String env = System.getenv("BRAID_GUEST_DIR");
        return Path.of(property != null ? property : env != null ? env : DEFAULT_DIR);
    }

    public String version()
    {
        return modulesDir.getFileName().toString();
    }

    private static Path singleVersion(final Path modulesRoot)
    {
        final List<Path> versions = new ArrayList<>();
        for (final Path p : list(modulesRoot))
        {
            if (Files.isDirectory(p.resolve("kernel")))
            {
                versions.add(p);
            }
        }
        return versions.size() == 1 ? versions.get(0) : null;
    }

    private static List<Path> list(final Path dir)
    {
        if (!Files.isDirectory(dir))
        {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir))
        {
            return entries.sorted().toList();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot list " + dir, ex);
        }
    }
}
