package dev.braid.testkit.guest;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Proves the harness on QEMU's own virtio-blk (no Braid): a stock guest driver writes a pattern with
 * dd at an offset into a raw file the test made, reads it back past the page cache, checksums it,
 * and the host finds the same bytes in the file.
 */
@ExtendWith(NoQemuLeftBehind.class)
class QemuVirtioBlkGuestTest
{
    private static final int DISK_MIB = 16;
    /** 64 KiB at 1 MiB + 4 KiB: not at the start, so a wrong offset shows. */
    private static final long PATTERN_OFFSET = (1 << 20) + 4096;
    private static final int PATTERN_BYTES = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void guestWritesAPatternThroughVirtioBlkAndTheHostFindsIt() throws Exception
    {
        final Path disk = dir.resolve("disk.raw");
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            ch.truncate(DISK_MIB << 20);
            ch.write(ByteBuffer.wrap(new byte[] {1}), (DISK_MIB << 20) - 1);
        }
        // The pattern: 16-byte records "braid-pattern-NN", NN counting records mod 256 (a 4 KiB block,
        // repeated), made in the guest by busybox's shell so guest and host agree without a file shipped in.
        final String script = String.join("\n",
            "set -e",
            "braid_wait /dev/vda || { echo no /dev/vda; exit 3; }",
            "braid_result size512 $(cat /sys/block/vda/size)",
            "braid_result mq $(ls /sys/block/vda/mq | wc -l)",
            "i=0; : > /tmp/b",
            "while [ $i -lt 256 ]; do printf 'braid-pattern-%02x' $i >> /tmp/b; i=$((i+1)); done",
            "cat /tmp/b /tmp/b > /tmp/p2; cat /tmp/p2 /tmp/p2 > /tmp/p4; cat /tmp/p4 /tmp/p4 > /tmp/p8; cat /tmp/p8 /tmp/p8 > /tmp/p",
            "braid_result written-md5 $(md5sum < /tmp/p | cut -d' ' -f1)",
            "dd if=/tmp/p of=/dev/vda bs=4096 seek=" + PATTERN_OFFSET / 4096 + " conv=fsync 2>/dev/null",
            "echo 3 > /proc/sys/vm/drop_caches",
            "braid_result read-md5 $(dd if=/dev/vda bs=4096 skip=" + PATTERN_OFFSET / 4096 + " count=" +
                PATTERN_BYTES / 4096 + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            "");
        final GuestResult result = GuestRun.builder()
            .name("qemu-virtio-blk")
            .cpus(2)
            .qemuArgs(
                "-drive", "file=" + disk + ",if=none,id=d,format=raw,cache=none,aio=threads",
                "-device", "virtio-blk-pci,drive=d,num-queues=2")
            .script(script)
            .run()
            .assertSucceeded();

        final String expected = md5(pattern());
        assertEquals(Long.toString((long)DISK_MIB << 11), result.result("size512"), "guest sees the disk's size");
        assertEquals("2", result.result("mq"), "guest driver uses both queues");
        assertEquals(expected, result.result("written-md5"), "guest made the same pattern as the host");
        assertEquals(expected, result.result("read-md5"), "guest read back what it wrote");

        final byte[] onDisk = new byte[PATTERN_BYTES];
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ))
        {
            final ByteBuffer buf = ByteBuffer.wrap(onDisk);
            while (buf.hasRemaining() && ch.read(buf, PATTERN_OFFSET + buf.position()) > 0)
            {
            }
        }
        assertEquals(expected, md5(onDisk), "the host file holds the guest's pattern at the offset");
        final byte[] before = new byte[4096];
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ))
        {
            ch.read(ByteBuffer.wrap(before), PATTERN_OFFSET - 4096);
        }
        assertEquals(md5(new byte[4096]), md5(before), "nothing written before the offset");
    }

    static byte[] pattern()
    {
        final StringBuilder sb = new StringBuilder(PATTERN_BYTES);
        for (int i = 0; i < PATTERN_BYTES / 16; i++)
        {
            sb.append(String.format("braid-pattern-%02x", i % 256));
        }
        return sb.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    static String md5(final byte[] bytes) throws NoSuchAlgorithmException
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

}
