package dev.braid.testkit.guest;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

/**
 * Builds the guest's initramfs (cpio newc, gzip): static busybox, the kernel modules in load order,
 * an {@code /init} that mounts proc/sys/devtmpfs, prints {@code BRAID-BOOTED}, loads the modules,
 * runs the test's script with helper functions, prints {@code BRAID-DONE rc=N} and powers off.
 * <p>
 * Helpers the guest script may call: {@code braid_result KEY VALUE} (prints a BRAID-RESULT line),
 * {@code braid_wait PATH [TENTHS]} (waits up to TENTHS/10 s, default 10 s, for PATH to appear).
 */
public final class Initramfs
{
    private static final List<String> BASE_DIRS = List.of("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules");

    private Initramfs()
    {
    }

    /** The generated {@code /init}, for the given module files (loaded in this order). */
    public static String initScript(final List<String> moduleFileNames)
    {
        final StringBuilder init = new StringBuilder(1024)
            .append("#!/bin/busybox sh\n")
            .append("/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin\n")
            .append("/bin/busybox --install -s\n")
            .append("export PATH=/bin:/sbin:/usr/bin:/usr/sbin\n")
            .append("mount -t proc proc /proc\n")
            .append("mount -t sysfs sysfs /sys\n")
            .append("mount -t devtmpfs devtmpfs /dev\n")
            // A task stuck in I/O for 20 s prints its stack on the console: a hung run's log says where.
            .append("echo 20 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null\n")
            .append("echo \"" + ConsoleMarkers.BOOTED + " uptime=$(cut -d' ' -f1 /proc/uptime)\"\n");
        for (final String module : moduleFileNames)
        {
            init.append("insmod /lib/modules/").append(module)
                .append(" || echo \"" + ConsoleMarkers.RESULT + " insmod.").append(module).append("=failed\"\n");
        }
        init.append("braid_result() { echo \"" + ConsoleMarkers.RESULT + " $1=$2\"; }\n")
            .append("braid_wait() { n=${2:-100}; while [ ! -e \"$1\" ]; do [ $n -le 0 ] && return 1; ")
            .append("n=$((n-1)); sleep 0.1; done; return 0; }\n")
            .append("( . /guest.sh )\n")
            .append("rc=$?\n")
            .append("sync\n")
            .append("echo \"" + ConsoleMarkers.DONE + " rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)\"\n")
            .append("poweroff -f\n")
            .append("sleep 30\n");
        return init.toString();
    }

    /** A host file copied into the guest at an absolute path (static binaries, data). */
    public record GuestFile(String guestPath, Path hostFile, int permissions)
    {
        public GuestFile
        {
            if (!guestPath.matches("/[A-Za-z0-9._/+-]+") || guestPath.contains("//") || guestPath.contains("/../") ||
                guestPath.endsWith("/") || guestPath.endsWith("/.."))
            {
                throw new IllegalArgumentException("guest file path must be absolute and plain: '" + guestPath + "'");
            }
            if (guestPath.equals("/init") || guestPath.equals("/guest.sh") || guestPath.startsWith("/bin/busybox"))
            {
                throw new IllegalArgumentException("guest file path is the harness's own: '" + guestPath + "'");
            }
        }
    }

    /** Writes the initramfs to {@code out}. */
    public static void write(
        final Path out, final Path busybox, final List<Path> modules, final String guestScript,
        final List<GuestFile> extraFiles) throws IOException
    {
        final List<String> names = new ArrayList<>(modules.size());
        for (final Path module : modules)
        {
            names.add(module.getFileName().toString());
        }
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16);
            GZIPOutputStream gzip = new GZIPOutputStream(file, 1 << 16))
        {
            final CpioNewcWriter cpio = new CpioNewcWriter(gzip);
            for (final String dir : BASE_DIRS)
            {
                cpio.directory(dir, 0755);
            }
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.file("bin/busybox", 0755, Files.readAllBytes(busybox));
            cpio.symlink("bin/sh", "busybox");
            for (final Path module : modules)
            {
                cpio.file("lib/modules/" + module.getFileName(), 0644, Files.readAllBytes(module));
            }
            cpio.file("init", 0755, initScript(names).getBytes(StandardCharsets.UTF_8));
            cpio.file("guest.sh", 0644, guestScript.getBytes(StandardCharsets.UTF_8));
            // The kernel creates no parent directories while unpacking: emit each one once, first.
            final Set<String> dirs = new HashSet<>(BASE_DIRS);
            for (final GuestFile extra : extraFiles)
            {
                final String relative = extra.guestPath().substring(1);
                for (int slash = relative.indexOf('/'); slash > 0; slash = relative.indexOf('/', slash + 1))
                {
                    final String dir = relative.substring(0, slash);
                    if (dirs.add(dir))
                    {
                        cpio.directory(dir, 0755);
                    }
                }
                cpio.file(relative, extra.permissions(), Files.readAllBytes(extra.hostFile()));
            }
            cpio.finish();
        }
    }
}
