package dev.braid.testkit.guest;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** Writes the initramfs to {@code out}. */
    public static void write(
        final Path out, final Path busybox, final List<Path> modules, final String guestScript) throws IOException
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
            for (final String dir : List.of("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"))
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
            cpio.finish();
        }
    }
}
