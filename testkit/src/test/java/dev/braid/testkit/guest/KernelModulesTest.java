package dev.braid.testkit.guest;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelModulesTest
{
    @TempDir
    Path dir;

    /** A minimal ELF64 LE relocatable with sections: null, .shstrtab, .modinfo. */
    static byte[] elfWithModinfo(final String... modinfo)
    {
        final ByteArrayOutputStream info = new ByteArrayOutputStream();
        for (final String s : modinfo)
        {
            info.writeBytes((s + "\0").getBytes(StandardCharsets.UTF_8));
        }
        final byte[] names = "\0.shstrtab\0.modinfo\0".getBytes(StandardCharsets.US_ASCII);
        final int namesAt = 64;
        final int infoAt = namesAt + names.length;
        final int tableAt = (infoAt + info.size() + 7) & ~7;
        final ByteBuffer elf = ByteBuffer.allocate(tableAt + 3 * 64).order(ByteOrder.LITTLE_ENDIAN);
        elf.putInt(0, 0x464C457F).put(4, (byte)2).put(5, (byte)1).put(6, (byte)1);
        elf.putShort(0x10, (short)1).putShort(0x12, (short)62);
        elf.putLong(0x28, tableAt).putShort(0x34, (short)64).putShort(0x3A, (short)64).putShort(0x3C, (short)3)
            .putShort(0x3E, (short)1);
        elf.put(namesAt, names).put(infoAt, info.toByteArray());
        section(elf, tableAt + 64, 1, 3, namesAt, names.length);
        section(elf, tableAt + 128, 11, 1, infoAt, info.size());
        return elf.array();
    }

    private static void section(final ByteBuffer elf, final int at, final int name, final int type, final long offset,
        final long size)
    {
        elf.putInt(at, name).putInt(at + 4, type).putLong(at + 0x18, offset).putLong(at + 0x20, size);
    }

    private void module(final String relative, final String depends) throws Exception
    {
        final Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.write(file, elfWithModinfo("license=GPL", "depends=" + depends, "name=" + file.getFileName()));
    }

    private static List<String> names(final List<Path> files)
    {
        return files.stream().map(p -> p.getFileName().toString()).toList();
    }

    @Test
    void loadOrderPutsDependenciesFirstOnceAndSkipsBuiltins() throws Exception
    {
        module("kernel/drivers/virtio/virtio.ko", "");
        module("kernel/drivers/virtio/virtio_ring.ko", "virtio");
        module("kernel/drivers/block/virtio_blk.ko", "virtio,virtio_ring");
        module("kernel/drivers/scsi/scsi-mod.ko", "scsi_common");
        module("kernel/drivers/scsi/sd_mod.ko", "scsi_mod,crc-t10dif");
        Files.writeString(dir.resolve("modules.builtin"),
            "kernel/drivers/scsi/scsi_common.ko\nkernel/lib/crc-t10dif.ko\n");
        final KernelModules modules = KernelModules.index(dir);

        assertEquals(List.of("virtio.ko", "virtio_ring.ko", "virtio_blk.ko", "scsi-mod.ko", "sd_mod.ko"),
            names(modules.loadOrder(List.of("virtio_blk", "virtio-ring", "sd_mod"))));
        assertTrue(modules.isBuiltin("crc_t10dif"));
        assertFalse(modules.isBuiltin("virtio"));
        assertEquals(List.of(), modules.loadOrder(List.of("scsi_common")));
    }

    @Test
    void unknownModulesCyclesAndNonElfFilesAreNamed() throws Exception
    {
        module("kernel/a.ko", "b");
        module("kernel/b.ko", "a");
        module("kernel/c.ko", "missing_dep");
        Files.write(dir.resolve("kernel/zstd.ko"), new byte[] {0x28, (byte)0xB5, 0x2F, (byte)0xFD, 0, 0, 0, 0});
        Files.write(dir.resolve("kernel/short.ko"), new byte[] {0x7F, 'E', 'L', 'F'});
        final KernelModules modules = KernelModules.index(dir);

        final String unknown = assertThrows(IllegalArgumentException.class,
            () -> modules.loadOrder(List.of("c"))).getMessage();
        assertTrue(unknown.contains("'missing_dep'"), unknown);
        assertTrue(assertThrows(IllegalStateException.class,
            () -> modules.loadOrder(List.of("a"))).getMessage().contains("cycle"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> modules.loadOrder(List.of("zstd"))).getMessage().contains("uncompressed ELF64"));
        assertThrows(IllegalArgumentException.class, () -> modules.loadOrder(List.of("short")));
    }

    @Test
    void aSectionTablePastTheEndIsRefused() throws Exception
    {
        final byte[] elf = elfWithModinfo("depends=");
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(0x28, elf.length - 64);
        final Path file = dir.resolve("bad.ko");
        Files.write(file, elf);
        assertThrows(IllegalArgumentException.class, () -> KernelModules.dependencies(file));
    }

    @Test
    void theGuestKernelsVirtioModulesResolve()
    {
        final GuestKernel kernel = GuestKernel.require();
        final List<String> order = names(KernelModules.index(kernel.modulesDir()).loadOrder(GuestRun.DEFAULT_MODULES));
        assertTrue(order.indexOf("virtio_ring.ko") < order.indexOf("virtio_blk.ko"), order.toString());
        assertTrue(order.indexOf("scsi_mod.ko") < order.indexOf("sd_mod.ko"), order.toString());
        assertTrue(order.indexOf("failover.ko") < order.indexOf("net_failover.ko"), order.toString());
        assertTrue(order.containsAll(List.of("virtio_pci.ko", "virtio_net.ko", "virtio_scsi.ko")), order.toString());
    }
}
