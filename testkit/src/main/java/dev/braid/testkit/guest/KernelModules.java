package dev.braid.testkit.guest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A kernel's module tree ({@code lib/modules/<version>}), read without kmod: each {@code .ko}'s
 * {@code .modinfo} ELF section names its dependencies ({@code depends=a,b}), so {@link #loadOrder}
 * gives the files to {@code insmod} in dependency order, with no {@code modules.dep} (Debian's
 * kernel package ships none: depmod makes it at install time). Modules listed in
 * {@code modules.builtin} are already in the kernel and are left out. Uncompressed {@code .ko} only.
 */
public final class KernelModules
{
    private final Path root;
    private final Map<String, Path> byName = new HashMap<>();
    private final Set<String> builtin = new HashSet<>();

    private KernelModules(final Path root)
    {
        this.root = root;
    }

    /** Indexes the tree at {@code root} (a {@code lib/modules/<version>} directory). */
    public static KernelModules index(final Path root)
    {
        final KernelModules modules = new KernelModules(root);
        try (Stream<Path> files = Files.walk(root))
        {
            files.filter(p -> p.getFileName().toString().endsWith(".ko"))
                .forEach(p -> modules.byName.put(canonical(p.getFileName().toString()), p));
            final Path builtinList = root.resolve("modules.builtin");
            if (Files.exists(builtinList))
            {
                for (final String line : Files.readAllLines(builtinList))
                {
                    final String file = line.substring(line.lastIndexOf('/') + 1).trim();
                    if (!file.isEmpty())
                    {
                        modules.builtin.add(canonical(file));
                    }
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot index kernel modules under " + root, ex);
        }
        return modules;
    }

    public Path root()
    {
        return root;
    }

    /** Whether the kernel has {@code name} built in (nothing to load). */
    public boolean isBuiltin(final String name)
    {
        return builtin.contains(canonical(name));
    }

    /**
     * The module files that loading {@code names} needs, each after its dependencies, without
     * duplicates and without built-in modules.
     */
    public List<Path> loadOrder(final List<String> names)
    {
        final LinkedHashSet<String> ordered = new LinkedHashSet<>();
        for (final String name : names)
        {
            visit(canonical(name), ordered, new LinkedHashSet<>());
        }
        final List<Path> files = new ArrayList<>(ordered.size());
        for (final String name : ordered)
        {
            files.add(byName.get(name));
        }
        return files;
    }

    private void visit(final String name, final Set<String> ordered, final Set<String> onPath)
    {
        if (ordered.contains(name) || builtin.contains(name))
        {
            return;
        }
        final Path file = byName.get(name);
        if (file == null)
        {
            throw new IllegalArgumentException("kernel module '" + name + "' is neither under " + root + " nor built in");
        }
        if (!onPath.add(name))
        {
            throw new IllegalStateException("kernel module dependency cycle through '" + name + "': " + onPath);
        }
        for (final String dependency : dependencies(file))
        {
            visit(dependency, ordered, onPath);
        }
        onPath.remove(name);
        ordered.add(name);
    }

    /** The {@code depends=} list of one module file. */
    static List<String> dependencies(final Path koFile)
    {
        final List<String> result = new ArrayList<>();
        for (final String entry : modinfo(koFile))
        {
            if (entry.startsWith("depends="))
            {
                for (final String dependency : entry.substring("depends=".length()).split(","))
                {
                    if (!dependency.isBlank())
                    {
                        result.add(canonical(dependency.trim()));
                    }
                }
            }
        }
        return result;
    }

    /** The NUL-separated {@code key=value} strings of a module's {@code .modinfo} section. */
    static List<String> modinfo(final Path koFile)
    {
        final ByteBuffer elf;
        try
        {
            elf = ByteBuffer.wrap(Files.readAllBytes(koFile)).order(ByteOrder.LITTLE_ENDIAN);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read kernel module " + koFile, ex);
        }
        // ELF64 little-endian only: Debian amd64 modules, uncompressed.
        if (elf.limit() < 64 || elf.getInt(0) != 0x464C457F || elf.get(4) != 2 || elf.get(5) != 1)
        {
            throw new IllegalArgumentException("not an uncompressed ELF64 LE kernel module: " + koFile);
        }
        final long sectionTable = elf.getLong(0x28);
        final int entrySize = elf.getShort(0x3A) & 0xFFFF;
        final int count = elf.getShort(0x3C) & 0xFFFF;
        final int namesIndex = elf.getShort(0x3E) & 0xFFFF;
        if (entrySize < 64 || namesIndex >= count || sectionTable < 0 ||
            sectionTable + (long)count * entrySize > elf.limit())
        {
            throw new IllegalArgumentException("bad ELF section table in " + koFile);
        }
        final int namesOffset = (int)section(elf, sectionTable, entrySize, namesIndex, 0x18, koFile);
        for (int i = 0; i < count; i++)
        {
            final int nameAt = namesOffset + elf.getInt((int)(sectionTable + (long)i * entrySize));
            if (".modinfo".equals(cString(elf, nameAt)))
            {
                final int start = (int)section(elf, sectionTable, entrySize, i, 0x18, koFile);
                final int size = (int)section(elf, sectionTable, entrySize, i, 0x20, koFile);
                if ((long)start + size > elf.limit())
                {
                    throw new IllegalArgumentException(".modinfo runs past the end of " + koFile);
                }
                final List<String> entries = new ArrayList<>();
                for (final String s : new String(elf.array(), start, size, StandardCharsets.UTF_8).split("\0"))
                {
                    if (!s.isEmpty())
                    {
                        entries.add(s);
                    }
                }
                return entries;
            }
        }
        return List.of();
    }

    private static long section(
        final ByteBuffer elf, final long table, final int entrySize, final int index, final int field, final Path file)
    {
        final long value = elf.getLong((int)(table + (long)index * entrySize + field));
        if (value < 0 || value > elf.limit())
        {
            throw new IllegalArgumentException("bad ELF section " + index + " in " + file);
        }
        return value;
    }

    private static String cString(final ByteBuffer elf, final int at)
    {
        if (at < 0 || at >= elf.limit())
        {
            return "";
        }
        int end = at;
        while (end < elf.limit() && elf.get(end) != 0)
        {
            end++;
        }
        return new String(elf.array(), at, end - at, StandardCharsets.UTF_8);
    }

    /** Module names compare with '-' and '_' as one character, as the kernel does. */
    static String canonical(final String fileOrName)
    {
        final String name = fileOrName.endsWith(".ko") ? fileOrName.substring(0, fileOrName.length() - 3) : fileOrName;
        return name.replace('-', '_');
    }
}
