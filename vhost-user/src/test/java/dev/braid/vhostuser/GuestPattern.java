package dev.braid.vhostuser;

import dev.braid.sim.SharedBlockStore;
import dev.braid.testkit.guest.GuestResult;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.memory.GuestMemory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The known bytes the real-guest block tests (blk and scsi) write and look for: a 256 KiB pattern
 * of 16-byte records that the guest's shell makes ({@link #makePattern}) and the host computes
 * ({@link #pattern}); the guest script lines that write it and read it back, once
 * ({@link #roundTrip}) or in a loop beside a fault ({@link #rounds}); and the host's side of
 * each: the guest's md5s, and the same bytes found in the sim store through its card-facing read.
 */
final class GuestPattern
{
    /** 256 KiB at 1 MiB + 4 KiB: not at the start, so a wrong offset shows. */
    static final long PATTERN_OFFSET = (1 << 20) + 4096;
    static final int PATTERN_BYTES = 256 * 1024;

    private GuestPattern()
    {
    }

    /** Shell lines: /tmp/p is a 64 KiB block of 16-byte records "braid-pattern-NN" (NN = record mod 256, hex), four times. */
    static String makePattern()
    {
        return String.join("\n",
            "i=0; : > /tmp/b",
            "while [ $i -lt 256 ]; do printf 'braid-pattern-%02x' $i >> /tmp/b; i=$((i+1)); done",
            "cat /tmp/b /tmp/b > /tmp/p2; cat /tmp/p2 /tmp/p2 > /tmp/p4; cat /tmp/p4 /tmp/p4 > /tmp/p8; cat /tmp/p8 /tmp/p8 > /tmp/p16",
            "cat /tmp/p16 /tmp/p16 /tmp/p16 /tmp/p16 > /tmp/p");
    }

    /** What {@link #makePattern} makes, on the host. */
    static byte[] pattern()
    {
        final StringBuilder sb = new StringBuilder(PATTERN_BYTES);
        for (int i = 0; i < PATTERN_BYTES / 16; i++)
        {
            sb.append(String.format("braid-pattern-%02x", i % 256));
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static String md5(final byte[] bytes) throws Exception
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    /**
     * Shell lines on {@code disk} (/dev/vda, /dev/sda): the pattern made, written at
     * {@link #PATTERN_OFFSET} with O_DIRECT and read back, then written after it through the page
     * cache, flushed, dropped and read again. Results written-md5, direct-md5, buffered-md5.
     */
    static String roundTrip(final String disk)
    {
        return String.join("\n",
            makePattern(),
            "braid_result written-md5 $(md5sum < /tmp/p | cut -d' ' -f1)",
            "dd if=/tmp/p of=" + disk + " bs=4096 seek=" + PATTERN_OFFSET / 4096 + " oflag=direct 2>/dev/null",
            "braid_result direct-md5 $(dd if=" + disk + " bs=4096 skip=" + PATTERN_OFFSET / 4096 + " count=" +
                PATTERN_BYTES / 4096 + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            // Buffered: through the page cache, flushed, dropped, read again.
            "dd if=/tmp/p of=" + disk + " bs=4096 seek=" + (PATTERN_OFFSET + PATTERN_BYTES) / 4096 + " conv=fsync 2>/dev/null",
            "echo 3 > /proc/sys/vm/drop_caches",
            "braid_result buffered-md5 $(dd if=" + disk + " bs=4096 skip=" + (PATTERN_OFFSET + PATTERN_BYTES) / 4096 +
                " count=" + PATTERN_BYTES / 4096 + " 2>/dev/null | md5sum | cut -d' ' -f1)");
    }

    /** The host's side of {@link #roundTrip}: the guest made the pattern and read it back both ways; the store holds both copies. */
    static void assertRoundTrip(final GuestResult result, final SharedBlockStore store) throws Exception
    {
        final String expected = md5(pattern());
        assertEquals(expected, result.result("written-md5"), "guest made the same pattern as the host");
        assertEquals(expected, result.result("direct-md5"), "O_DIRECT read back");
        assertEquals(expected, result.result("buffered-md5"), "buffered read back");
        assertEquals(expected, md5(storeBytes(store, PATTERN_OFFSET, PATTERN_BYTES)), "the store holds the O_DIRECT pattern");
        assertEquals(expected, md5(storeBytes(store, PATTERN_OFFSET + PATTERN_BYTES, PATTERN_BYTES)), "and the buffered one");
        assertEquals(md5(new byte[4096]), md5(storeBytes(store, PATTERN_OFFSET - 4096, 4096)), "nothing before the offset");
    }

    /**
     * Shell lines on {@code disk}: result started 1, then {@code count} rounds, round i writing the
     * pattern at 64 KiB block i * 4 with O_DIRECT and reading it back; results ok and bad (rounds
     * whose write failed or whose read-back differed).
     */
    static String rounds(final String disk, final int count)
    {
        final int blocks = PATTERN_BYTES / 65536;
        return String.join("\n",
            makePattern(),
            "want=$(md5sum < /tmp/p | cut -d' ' -f1)",
            "ok=0; bad=0; i=0",
            "braid_result started 1",
            "while [ $i -lt " + count + " ]; do",
            "  if dd if=/tmp/p of=" + disk + " bs=64k seek=$((i * " + blocks + ")) oflag=direct 2>/dev/null; then",
            "    got=$(dd if=" + disk + " bs=64k skip=$((i * " + blocks + ")) count=" + blocks +
                " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)",
            "    if [ \"$got\" = \"$want\" ]; then ok=$((ok+1)); else bad=$((bad+1)); fi",
            "  else bad=$((bad+1)); fi",
            "  i=$((i+1))",
            "done",
            "braid_result ok $ok",
            "braid_result bad $bad");
    }

    /** The host's side of {@link #rounds}: every round matched in the guest, and the store holds every round's copy. */
    static void assertRounds(final GuestResult result, final SharedBlockStore store, final int count) throws Exception
    {
        assertEquals(Integer.toString(count), result.result("ok"), "every round matched");
        assertEquals("0", result.result("bad"), "no round failed");
        final String expected = md5(pattern());
        for (int i = 0; i < count; i++)
        {
            assertEquals(expected, md5(storeBytes(store, (long)i * PATTERN_BYTES, PATTERN_BYTES)), "store round " + i);
        }
    }

    /** {@code length} bytes of the store at byte {@code offset}, read as a card reads them. */
    static byte[] storeBytes(final SharedBlockStore store, final long offset, final int length)
    {
        final GuestMemory scratch = GuestMemory.allocate(length);
        final IoVector into = new IoVector(1);
        into.reset(scratch);
        into.add(0, length);
        store.read(offset / SharedBlockStore.SECTOR_SIZE, into, length);
        final byte[] bytes = new byte[length];
        scratch.getBytes(0, bytes, 0, length);
        return bytes;
    }
}
