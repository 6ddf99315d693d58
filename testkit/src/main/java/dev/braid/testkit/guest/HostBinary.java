package dev.braid.testkit.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.braid.testkit.RealPeers;

/**
 * A dynamically linked host binary (fio, sg_reset) made to run in the busybox guest: the binary,
 * every shared library {@code ldd} resolves for it and the dynamic loader, each copied to the guest
 * at the path the host has it under (the guest has no {@code ld.so.cache}, so the loader finds them
 * in its built-in multiarch directories, or through a library's own RUNPATH). Paths are kept as ldd
 * prints them, not resolved, because the loader opens them by those names.
 */
public final class HostBinary
{
    private HostBinary()
    {
    }

    /**
     * The binary {@code name} (found on the PATH; a missing one skips the test loudly, fails it under
     * CI=true) at {@code /usr/bin/<name>}, with its libraries and loader.
     */
    public static List<Initramfs.GuestFile> require(final String name) throws IOException
    {
        final Path binary = RealPeers.requireExecutable(name);
        final Path ldd = RealPeers.requireExecutable("ldd");
        final List<Initramfs.GuestFile> files = new ArrayList<>();
        files.add(new Initramfs.GuestFile("/usr/bin/" + binary.getFileName(), binary, 0755));
        for (final Path library : libraries(run(ldd, binary), binary))
        {
            files.add(new Initramfs.GuestFile(library.toString(), library, 0755));
        }
        return files;
    }

    /**
     * The absolute library paths (the loader included) in {@code ldd} output, in order, once each.
     * The vDSO has no file and is left out; a statically linked binary has none. A library ldd could
     * not find is an error naming it, as the guest would fail to start the binary.
     */
    public static List<Path> libraries(final String lddOutput, final Path binary)
    {
        final Set<Path> found = new LinkedHashSet<>();
        for (final String raw : lddOutput.split("\n"))
        {
            final String line = raw.trim();
            if (line.isEmpty() || line.contains("not a dynamic executable") || line.startsWith("statically linked"))
            {
                continue;
            }
            if (line.contains("=> not found"))
            {
                throw new IllegalStateException("ldd cannot find a library of " + binary + ": " + line);
            }
            final int arrow = line.indexOf("=> ");
            final String rest = arrow >= 0 ? line.substring(arrow + 3).trim() : line;
            if (!rest.startsWith("/"))
            {
                continue; // linux-vdso.so.1 (0x...): in the kernel, not a file
            }
            final int space = rest.indexOf(' ');
            found.add(Path.of(space < 0 ? rest : rest.substring(0, space)));
        }
        return new ArrayList<>(found);
    }

    private static String run(final Path ldd, final Path binary) throws IOException
    {
        final Process p = new ProcessBuilder(ldd.toString(), binary.toString()).redirectErrorStream(true).start();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream())
        {
            in.transferTo(out);
            if (!p.waitFor(30, TimeUnit.SECONDS))
            {
                p.destroyForcibly();
                throw new IOException("ldd " + binary + " did not finish in 30 s");
            }
        }
        catch (final InterruptedException e)
        {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running ldd " + binary, e);
        }
        final String text = out.toString(StandardCharsets.UTF_8);
        // ldd exits 1 for a static binary ("not a dynamic executable"): that is a binary with no libraries.
        if (p.exitValue() != 0 && !text.contains("not a dynamic executable"))
        {
            throw new IOException("ldd " + binary + " exited " + p.exitValue() + ": " + text.strip());
        }
        if (!Files.isRegularFile(binary))
        {
            throw new IOException("not a file: " + binary);
        }
        return text;
    }
}
