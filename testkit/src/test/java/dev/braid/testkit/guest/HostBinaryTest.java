package dev.braid.testkit.guest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing ldd's output, and copying a real host binary with its libraries (/usr/bin/env, from coreutils). */
class HostBinaryTest
{
    private static final Path BIN = Path.of("/usr/bin/x");

    @Test
    void librariesAndTheLoaderInOrderWithoutTheVdso()
    {
        final String ldd = String.join("\n",
            "\tlinux-vdso.so.1 (0x00007ffc5b3f2000)",
            "\tlibaio.so.1 => /lib/x86_64-linux-gnu/libaio.so.1 (0x00007f2a1c000000)",
            "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2a1be00000)",
            "\t/lib64/ld-linux-x86-64.so.2 (0x00007f2a1c200000)",
            "\tlibceph-common.so.2 => /usr/lib/x86_64-linux-gnu/ceph/libceph-common.so.2 (0x00007f2a10000000)",
            "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2a1be00000)",
            "");
        assertEquals(List.of(
            Path.of("/lib/x86_64-linux-gnu/libaio.so.1"),
            Path.of("/lib/x86_64-linux-gnu/libc.so.6"),
            Path.of("/lib64/ld-linux-x86-64.so.2"),
            Path.of("/usr/lib/x86_64-linux-gnu/ceph/libceph-common.so.2")), HostBinary.libraries(ldd, BIN));
    }

    @Test
    void aStaticBinaryHasNoLibraries()
    {
        assertEquals(List.of(), HostBinary.libraries("\tnot a dynamic executable\n", BIN));
        assertEquals(List.of(), HostBinary.libraries("\tstatically linked\n", BIN));
    }

    @Test
    void aLibraryLddCannotFindIsNamed()
    {
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> HostBinary.libraries(
            "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n\tlibgone.so.3 => not found\n", BIN));
        assertTrue(e.getMessage().contains("libgone.so.3"), e.getMessage());
    }

    @Test
    void aRealBinaryComesWithItsLoaderAndLibc() throws Exception
    {
        final List<Initramfs.GuestFile> files = HostBinary.require("env");
        assertEquals("/usr/bin/env", files.get(0).guestPath());
        assertTrue(files.stream().anyMatch(f -> f.guestPath().endsWith("/libc.so.6")), files.toString());
        assertTrue(files.stream().anyMatch(f -> f.guestPath().startsWith("/lib64/ld-linux")), files.toString());
        for (final Initramfs.GuestFile f : files)
        {
            assertTrue(Files.isRegularFile(f.hostFile()), f.toString());
        }
    }

    @Test
    void aMissingBinaryIsAMissingPeer()
    {
        final Throwable t = assertThrows(Throwable.class, () -> HostBinary.require("braid-no-such-tool"));
        assertTrue(t.getMessage().contains("REAL PEER MISSING: braid-no-such-tool"), t.getMessage());
        assertEquals(dev.braid.testkit.RealPeers.strict(), t instanceof AssertionError,
            "a skip outside CI, a failure under CI=true: " + t);
    }

    @Test
    void guestRunCopiesSharedLibrariesOnce() throws Exception
    {
        final GuestRun run = GuestRun.builder().hostBinary("env").hostBinary("env");
        final long once = HostBinary.require("env").size();
        assertEquals(once, run.fileCount());
    }
}
