package dev.braid.virtio.queue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the committed seed corpus of {@link SplitChainFuzzTest}: one meaningful ring per file.
 * Run: {@code java -cp target/test-classes:target/classes:<agrona> dev.braid.virtio.queue.SplitChainFuzzSeeds <dir>}.
 */
final class SplitChainFuzzSeeds
{
    private static final int NEXT = 1;
    private static final int WRITE = 2;
    private static final int INDIRECT = 4;
    /** Flags-byte bit: len = (len & 0x1F) * 16. */
    private static final int LEN16 = 0x40;

    /** Address selectors (see SplitChainFuzzTest.address). */
    private static int at(final int hundreds)
    {
        return hundreds & 0x3F;
    }

    private static int edgeMinus(final int edge, final int minus)
    {
        return 0x40 | (edge << 4) | minus;
    }

    private static int nearTop(final int x)
    {
        return 0x80 | x;
    }

    private static int indirectArea(final int entry)
    {
        return 0xC0 | entry;
    }

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private SplitChainFuzzSeeds header(final int log2Size, final boolean eventIdx, final boolean indirect,
        final boolean smallChain, final int availDelta, final int start)
    {
        out.write(log2Size | (eventIdx ? 8 : 0) | (indirect ? 16 : 0) | (smallChain ? 32 : 0));
        out.write(availDelta);
        out.write(availDelta >>> 8);
        out.write(start);
        out.write(start >>> 8);
        return this;
    }

    private SplitChainFuzzSeeds desc(final int selector, final int length, final int flags, final int next)
    {
        out.write(selector);
        out.write(length);
        out.write(length >>> 8);
        out.write(flags);
        out.write(next);
        return this;
    }

    private SplitChainFuzzSeeds heads(final int... heads)
    {
        for (final int head : heads)
        {
            out.write(head);
        }
        return this;
    }

    private byte[] bytes()
    {
        return out.toByteArray();
    }

    private static SplitChainFuzzSeeds seed()
    {
        return new SplitChainFuzzSeeds();
    }

    public static void main(final String[] args) throws IOException
    {
        final Path dir = Path.of(args[0]);
        Files.createDirectories(dir);

        // Size 4: four good one-descriptor chains.
        write(dir, "good-single-descriptor-chains", seed().header(2, false, false, false, 4, 0)
            .desc(at(4), 0x100, 0, 0).desc(at(5), 0x100, WRITE, 0).desc(at(6), 0x10, 0, 0).desc(at(7), 1, WRITE, 0)
            .heads(0, 1, 2, 3).bytes());
        // Size 8: one chain 0 -> 3 -> 5 (readable, writable, writable), another of one descriptor.
        write(dir, "good-multi-descriptor-chain", seed().header(3, true, false, false, 2, 0)
            .desc(at(4), 0x10, NEXT, 3).desc(at(5), 0x20, 0, 0).desc(0, 0, 0, 0).desc(at(6), 0x200, WRITE | NEXT, 5)
            .desc(0, 0, 0, 0).desc(at(8), 1, WRITE, 0).desc(0, 0, 0, 0).desc(0, 0, 0, 0)
            .heads(0, 1, 0, 0, 0, 0, 0, 0).bytes());
        // Size 4 with indirect: head 1 points at a 3-entry table straddling two regions.
        write(dir, "good-indirect-chain", seed().header(2, true, true, false, 1, 0)
            .desc(0, 0, 0, 0).desc(indirectArea(0), 3, INDIRECT | LEN16, 0).desc(0, 0, 0, 0).desc(0, 0, 0, 0)
            .heads(1, 0, 0, 0)
            .desc(at(4), 0x10, NEXT, 1).desc(at(5), 0x100, WRITE | NEXT, 2).desc(at(6), 1, WRITE, 0).bytes());
        // Buffers that straddle the region boundary at 0x1000 (valid) and run into the hole (invalid).
        write(dir, "buffers-at-region-edges", seed().header(1, false, false, false, 2, 0)
            .desc(edgeMinus(0, 8), 16, 0, 0).desc(edgeMinus(1, 8), 16, WRITE, 0)
            .heads(0, 1).bytes());
        // Self loop and a two-descriptor loop.
        write(dir, "loops", seed().header(2, false, false, false, 2, 0)
            .desc(at(4), 8, NEXT, 0).desc(at(4), 8, NEXT, 2).desc(at(4), 8, NEXT, 1).desc(0, 0, 0, 0)
            .heads(0, 1).bytes());
        // Head out of range breaks the ring.
        write(dir, "head-out-of-range", seed().header(2, false, false, false, 1, 0)
            .desc(at(4), 8, 0, 0).desc(0, 0, 0, 0).desc(0, 0, 0, 0).desc(0, 0, 0, 0)
            .heads(9).bytes());
        // avail.idx moved by more than the queue size.
        write(dir, "avail-index-jump", seed().header(2, false, false, false, 5, 0).bytes());
        // Addresses near 2^64 and 2^63 with lengths that overflow.
        write(dir, "overflowing-addresses", seed().header(1, false, true, false, 2, 0)
            .desc(nearTop(0x10), 0x100, 0, 0).desc(nearTop(0x20 | 4), 0x100, WRITE, 0)
            .heads(0, 1).bytes());
        // Nested indirect, INDIRECT|NEXT, zero-length table.
        write(dir, "bad-indirect", seed().header(2, false, true, false, 3, 0)
            .desc(indirectArea(0), 1, INDIRECT | LEN16, 0).desc(indirectArea(0), 1, INDIRECT | NEXT | LEN16, 0)
            .desc(indirectArea(0), 0, INDIRECT, 0).desc(0, 0, 0, 0)
            .heads(0, 1, 2, 0)
            .desc(indirectArea(2), 1, INDIRECT | LEN16, 0).bytes());
        // INDIRECT without the feature.
        write(dir, "indirect-not-negotiated", seed().header(0, false, false, false, 1, 0)
            .desc(indirectArea(0), 1, INDIRECT | LEN16, 0).heads(0)
            .desc(at(4), 8, 0, 0).bytes());
        // Readable after writable, then a chain longer than the caller's DescriptorChain.
        write(dir, "order-and-capacity", seed().header(2, false, false, true, 2, 0)
            .desc(at(4), 8, WRITE | NEXT, 1).desc(at(4), 8, 0, 0).desc(at(4), 8, NEXT, 3).desc(at(4), 8, NEXT, 1)
            .heads(0, 2).bytes());
        // Indices that wrap past 65535 during the pops.
        write(dir, "wrap-around", seed().header(2, true, false, false, 4, 0xFFFE)
            .desc(at(4), 8, 0, 0).desc(at(5), 8, WRITE, 0).desc(at(6), 8, 0, 0).desc(at(7), 8, WRITE, 0)
            .heads(2, 3, 0, 1).bytes());
    }

    private static void write(final Path dir, final String name, final byte[] bytes) throws IOException
    {
        Files.write(dir.resolve(name), bytes);
    }
}
