package dev.braid.virtio.queue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.braid.virtio.queue.PackedChainFuzzTest.*;

/**
 * Writes the committed seed corpus of {@link PackedChainFuzzTest} in its input format. Run from
 * the module directory with the test classpath:
 * {@code java -cp target/test-classes:target/classes dev.braid.virtio.queue.PackedChainFuzzSeeds
 * src/test/resources/dev/braid/virtio/queue/PackedChainFuzzTestInputs/popArbitraryRing}
 */
final class PackedChainFuzzSeeds
{
    private static final int OP_POP = 0;
    private static final int OP_COMPLETE = 3;
    private static final int OP_PUBLISH = 4;
    private static final int OP_ENABLE = 5;
    private static final int OP_DISABLE = 5 | 8;
    private static final int OP_REWRITE = 6;
    private static final int OP_DRIVER_EVENT = 7;
    private static final int AVAIL_1 = R_AVAIL;
    private static final int AVAIL_0 = R_USED;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private PackedChainFuzzSeeds(final int size, final int options)
    {
        out.write(size - 1);
        out.write(options);
    }

    private PackedChainFuzzSeeds record(
        final int addrSeed, final int addrMode, final int len, final int id, final int bits, final int lenMode)
    {
        out.write(addrSeed);
        out.write(addrSeed >>> 8);
        out.write(addrMode);
        out.write(len);
        out.write(len >>> 8);
        out.write(id);
        out.write(bits);
        out.write(lenMode);
        return this;
    }

    /** A plain in-memory buffer descriptor. */
    private PackedChainFuzzSeeds desc(final int addr, final int len, final int id, final int bits)
    {
        return record(addr, A_IN_MEMORY, len, id, bits, L_PLAIN);
    }

    private PackedChainFuzzSeeds tables(final long... addrLenFlags)
    {
        out.write(addrLenFlags.length / 3);
        for (int i = 0; i < addrLenFlags.length; i += 3)
        {
            for (int b = 0; b < 8; b++)
            {
                out.write((int)(addrLenFlags[i] >>> (8 * b)));
            }
            for (int b = 0; b < 4; b++)
            {
                out.write((int)(addrLenFlags[i + 1] >>> (8 * b)));
            }
            out.write(0);
            out.write(0);
            out.write((int)addrLenFlags[i + 2]);
            out.write((int)(addrLenFlags[i + 2] >>> 8));
        }
        return this;
    }

    private PackedChainFuzzSeeds ops(final int... ops)
    {
        for (final int op : ops)
        {
            out.write(op);
        }
        return this;
    }

    private static int complete(final int which)
    {
        // The fuzz test picks held[which % held] and completes it with length which.
        return OP_COMPLETE | (which << 3);
    }

    private static int rewrite(final int slot)
    {
        return OP_REWRITE | (slot << 3);
    }

    private void save(final Path dir, final String name) throws IOException
    {
        Files.write(dir.resolve(name), out.toByteArray());
    }

    public static void main(final String[] args) throws IOException
    {
        final Path dir = Path.of(args[0]);
        Files.createDirectories(dir);

        new PackedChainFuzzSeeds(4, 0)
            .desc(0x2000, 64, 0, AVAIL_1).desc(0x2100, 64, 1, AVAIL_1 | R_WRITE)
            .desc(0, 0, 0, 0).desc(0, 0, 0, 0).tables()
            .ops(OP_POP, OP_POP, OP_POP, complete(1), complete(0), OP_PUBLISH)
            .save(dir, "single-descriptors");

        // A 2-slot chain at slots 2..0 across the ring end, posted by rewrites after a first lap.
        final PackedChainFuzzSeeds wrap = new PackedChainFuzzSeeds(3, OPT_EVENT_IDX)
            .desc(0x2000, 16, 0, AVAIL_1).desc(0x2000, 16, 1, AVAIL_1).desc(0, 0, 0, 0).tables()
            .ops(OP_POP, OP_POP, complete(0), complete(0), OP_PUBLISH, rewrite(0));
        wrap.desc(0x2200, 32, 2, AVAIL_0 | R_WRITE).ops(rewrite(2)).desc(0x2100, 8, 7, AVAIL_1 | R_NEXT)
            .ops(OP_POP, OP_ENABLE, complete(0), OP_PUBLISH, OP_POP)
            .save(dir, "chain-across-ring-end");

        new PackedChainFuzzSeeds(4, OPT_INDIRECT)
            .record(0, A_TABLE, 3, 2, AVAIL_1 | R_INDIRECT, L_TIMES_16)
            .desc(0x2000, 4, 3, AVAIL_1).desc(0, 0, 0, 0).desc(0, 0, 0, 0)
            .tables(0x2000, 100, 0, 0x2100, 200, 0, 0x2200, 300, VIRTQ_WRITE)
            .ops(OP_POP, OP_POP, complete(1), complete(0), OP_PUBLISH, OP_POP)
            .save(dir, "indirect-table");

        new PackedChainFuzzSeeds(4, OPT_INDIRECT)
            .record(0, A_TABLE, 2, 1, AVAIL_1 | R_INDIRECT, L_TIMES_16)
            .desc(0x2000, 4, 2, AVAIL_1).desc(0, 0, 0, 0).desc(0, 0, 0, 0)
            .tables(0x2000, 16, 0, 0x3000, 16, VIRTQ_INDIRECT)
            .ops(OP_POP, OP_POP, complete(0), OP_PUBLISH)
            .save(dir, "nested-indirect");

        new PackedChainFuzzSeeds(4, OPT_INDIRECT)
            .record(0, A_TABLE, 24, 0, AVAIL_1 | R_INDIRECT, L_PLAIN)
            .record(0, A_TABLE, 0, 1, AVAIL_1 | R_INDIRECT, L_PLAIN)
            .record(0, A_TABLE, 0, 2, AVAIL_1 | R_INDIRECT, L_HUGE)
            .record(0, A_TABLE, 1, 3, AVAIL_1 | R_INDIRECT | R_NEXT, L_TIMES_16)
            .tables(0x2000, 16, 0)
            .ops(OP_POP, OP_POP, OP_POP, OP_POP, OP_POP)
            .save(dir, "indirect-bad-lengths");

        new PackedChainFuzzSeeds(4, 0)
            .desc(0x2000, 4, 0, AVAIL_1 | R_NEXT).desc(0x2000, 4, 0, AVAIL_1 | R_NEXT)
            .desc(0x2000, 4, 0, AVAIL_1 | R_NEXT).desc(0x2000, 4, 0, AVAIL_1 | R_NEXT).tables()
            .ops(OP_POP, OP_POP)
            .save(dir, "chain-never-ends");

        new PackedChainFuzzSeeds(4, 0)
            .desc(0x2000, 4, 0, AVAIL_1 | R_NEXT).desc(0x2000, 4, 0, AVAIL_0).desc(0, 0, 0, 0).desc(0, 0, 0, 0)
            .tables()
            .ops(OP_POP, OP_POP)
            .save(dir, "chain-into-unavailable");

        new PackedChainFuzzSeeds(4, 0)
            .desc(0x2000, 4, 0xF5, AVAIL_1).desc(0x2000, 4, 5, AVAIL_1).desc(0, 0, 0, 0).desc(0, 0, 0, 0)
            .tables()
            .ops(OP_POP, OP_POP)
            .save(dir, "id-out-of-range");

        new PackedChainFuzzSeeds(4, 0)
            .desc(0x2000, 4, 1, AVAIL_1).desc(0x2000, 4, 1, AVAIL_1).desc(0, 0, 0, 0).desc(0, 0, 0, 0)
            .tables()
            .ops(OP_POP, OP_POP, OP_POP)
            .save(dir, "id-in-flight");

        new PackedChainFuzzSeeds(4, 0)
            .desc(0x2000, 4, 0, AVAIL_1 | R_WRITE | R_NEXT).desc(0x2000, 4, 1, AVAIL_1)
            .record(10, A_NEAR_END, 64, 2, AVAIL_1, L_PLAIN)
            .record(0xFFFF, A_WILD, 64, 3, AVAIL_1 | R_WRITE, L_HUGE)
            .tables()
            .ops(OP_POP, complete(0), OP_POP, complete(0), OP_POP, OP_PUBLISH, OP_POP)
            .save(dir, "bad-buffers");

        new PackedChainFuzzSeeds(8, OPT_TWO_REGIONS | OPT_EVENT_IDX | OPT_SMALL_CHAIN)
            .desc(0x100, 8, 0, AVAIL_1 | R_NEXT).desc(0x200, 8, 1, AVAIL_1 | R_NEXT).desc(0x300, 8, 2, AVAIL_1)
            .desc(0x400, 8, 3, AVAIL_1 | R_NEXT).desc(0x500, 8, 4, AVAIL_1 | R_WRITE)
            .desc(0x600, 8, 5, AVAIL_1).desc(0x700, 8, 6, AVAIL_1).desc(0x800, 8, 7, AVAIL_1)
            .tables()
            .ops(OP_DRIVER_EVENT, 0x05, 0x80, 0x02, 0x00, OP_DISABLE)
            .ops(OP_POP, OP_POP, OP_POP, complete(1), complete(0), OP_PUBLISH, OP_POP, OP_POP, OP_POP)
            .ops(complete(2), complete(1), complete(0), OP_PUBLISH, OP_ENABLE, OP_POP)
            .save(dir, "two-regions-event-idx");

        new PackedChainFuzzSeeds(1, 0).tables().save(dir, "empty-ring");
    }

    private static final int VIRTQ_WRITE = PackedRingDescriptor.VIRTQ_DESC_F_WRITE;
    private static final int VIRTQ_INDIRECT = PackedRingDescriptor.VIRTQ_DESC_F_INDIRECT;
}
