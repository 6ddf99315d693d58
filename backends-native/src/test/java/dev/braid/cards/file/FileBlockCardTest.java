package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.testkit.RealPeers;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;

class FileBlockCardTest
{
    private static final long SEED = Long.getLong("braid.seed", System.nanoTime());

    @TempDir
    Path dir;

    private static Random random()
    {
        System.out.println("FileBlockCardTest seed " + SEED + " (replay with -Dbraid.seed=" + SEED + ")");
        return new Random(SEED);
    }

    @Test
    void everyOperationRoundTripsAgainstTheFile() throws IOException
    {
        final Random random = random();
        try (FileCardRig rig = new FileCardRig(dir, 8 << 20, 16))
        {
            assertEquals((8 << 20) / 512, rig.card.capacitySectors());
            final byte[] data = new byte[64 << 10];
            random.nextBytes(data);

            // WRITE (aligned: O_DIRECT), checked with plain Java IO.
            rig.memory.putBytes(0, data, 0, data.length);
            assertEquals(CardStatus.OK, rig.run(FileCardRig.io(rig.memory, BlockIo.WRITE, 64, 0, data.length), 1));
            assertEquals(data.length, rig.length[1]);
            assertArrayEquals(data, rig.readFile(64 * 512, data.length));

            // READ back into other guest memory.
            final byte[] other = new byte[data.length];
            random.nextBytes(other);
            rig.writeFile(1 << 20, other);
            assertEquals(CardStatus.OK, rig.run(FileCardRig.io(rig.memory, BlockIo.READ, (1 << 20) / 512, 256 << 10, other.length), 2));
            final byte[] got = new byte[other.length];
            rig.memory.getBytes(256 << 10, got, 0, got.length);
            assertArrayEquals(other, got);

            // FLUSH.
            final BlockIo flush = new BlockIo(1);
            flush.setRange(BlockIo.FLUSH, 0, 0);
            assertEquals(CardStatus.OK, rig.run(flush, 3));

            // DISCARD punches a hole: the range reads back zero, the size stays.
            final BlockIo discard = new BlockIo(1);
            discard.setRange(BlockIo.DISCARD, 64, 16);
            assertEquals(CardStatus.OK, rig.run(discard, 4));
            assertArrayEquals(new byte[16 * 512], rig.readFile(64 * 512, 16 * 512));
            assertArrayEquals(Arrays.copyOfRange(data, 16 * 512, data.length), rig.readFile(80 * 512, data.length - 16 * 512));
            assertEquals(8 << 20, Files.size(rig.file));

            // WRITE_ZEROES zeroes a range (ext4 supports ZERO_RANGE; a file system without it gets UNSUPPORTED).
            final BlockIo zeroes = new BlockIo(1);
            zeroes.setRange(BlockIo.WRITE_ZEROES, 96, 8);
            final int zs = rig.run(zeroes, 5);
            assertTrue(zs == CardStatus.OK || zs == CardStatus.UNSUPPORTED, CardStatus.describe(zs));
            if (zs == CardStatus.OK)
            {
                assertArrayEquals(new byte[8 * 512], rig.readFile(96 * 512, 8 * 512));
                assertArrayEquals(Arrays.copyOfRange(data, 40 * 512, data.length), rig.readFile(104 * 512, data.length - 40 * 512));
            }
            assertEquals(8 << 20, Files.size(rig.file));

            // Beyond capacity: INVALID, never reaches the ring.
            assertEquals(CardStatus.INVALID, rig.run(FileCardRig.io(rig.memory, BlockIo.READ, (8 << 20) / 512 - 1, 0, 1024), 6));
            final BlockIo far = new BlockIo(1);
            far.setRange(BlockIo.DISCARD, Long.MAX_VALUE / 512, 8);
            assertEquals(CardStatus.INVALID, rig.run(far, 7));

            assertEquals(0, rig.card.inFlight(0));
            assertTrue(rig.card.isLinkUp());
            assertNotNull(rig.card.stableId());
        }
    }

    @Test
    void alignedRequestsGoDirectAndUnalignedOnesBuffered() throws IOException
    {
        final Random random = random();
        try (FileCardRig rig = new FileCardRig(dir, 4 << 20, 8))
        {
            RealPeers.require(rig.card.directIo(), "O_DIRECT on " + dir, String.valueOf(rig.card.directUnavailable()));
            final byte[] data = new byte[8192];
            random.nextBytes(data);

            // Page-aligned buffer, aligned offset: O_DIRECT.
            rig.memory.putBytes(4096, data, 0, data.length);
            assertEquals(CardStatus.OK, rig.run(FileCardRig.io(rig.memory, BlockIo.WRITE, 8, 4096, data.length), 1));
            assertEquals(1, rig.card.directRequests());
            assertEquals(0, rig.card.bufferedRequests());

            // An odd buffer address: buffered, same bytes on disk.
            rig.memory.putBytes(100_001, data, 0, data.length);
            assertEquals(CardStatus.OK, rig.run(FileCardRig.io(rig.memory, BlockIo.WRITE, 40, 100_001, data.length), 2));
            assertEquals(1, rig.card.directRequests());
            assertEquals(1, rig.card.bufferedRequests());
            assertArrayEquals(data, rig.readFile(8 * 512, data.length));
            assertArrayEquals(data, rig.readFile(40 * 512, data.length));

            // Unaligned read back (odd address) returns the same bytes.
            assertEquals(CardStatus.OK, rig.run(FileCardRig.io(rig.memory, BlockIo.READ, 8, 300_003, data.length), 3));
            final byte[] got = new byte[data.length];
            rig.memory.getBytes(300_003, got, 0, got.length);
            assertArrayEquals(data, got);
            assertEquals(2, rig.card.bufferedRequests());
        }
    }

    @Test
    void a128SegmentWriteLandsInOrder() throws IOException
    {
        final Random random = random();
        try (FileCardRig rig = new FileCardRig(dir, 4 << 20, 4))
        {
            final BlockIo io = new BlockIo(128);
            io.data().reset(rig.memory);
            final byte[] expected = new byte[128 * 4096];
            // Segments scattered backwards through guest memory so order matters.
            for (int s = 0; s < 128; s++)
            {
                final byte[] chunk = new byte[4096];
                random.nextBytes(chunk);
                final long gpa = (long)(200 - s) * 8192;
                rig.memory.putBytes(gpa, chunk, 0, chunk.length);
                System.arraycopy(chunk, 0, expected, s * 4096, 4096);
                assertTrue(io.data().add(gpa, 4096));
            }
            io.set(BlockIo.WRITE, 2048);
            assertEquals(CardStatus.OK, rig.run(io, 1));
            assertEquals(expected.length, rig.length[1]);
            assertArrayEquals(expected, rig.readFile(2048 * 512, expected.length));
            assertEquals(1, rig.card.directRequests());
        }
    }

    @Test
    void aSegmentSpanningTwoGuestRegionsIsSplit() throws IOException
    {
        final Random random = random();
        try (FileCardRig rig = new FileCardRig(dir, 4 << 20, 4))
        {
            assertEquals(2, rig.memory.regionCount());
            final byte[] data = new byte[64 << 10];
            random.nextBytes(data);
            final long gpa = FileCardRig.REGION - (16 << 10);
            rig.memory.putBytes(gpa, data, 0, data.length);
            assertEquals(CardStatus.OK, rig.run(FileCardRig.io(rig.memory, BlockIo.WRITE, 0, gpa, data.length), 1));
            assertArrayEquals(data, rig.readFile(0, data.length));

            rig.memory.setMemory(gpa, data.length, (byte)0);
            assertEquals(CardStatus.OK, rig.run(FileCardRig.io(rig.memory, BlockIo.READ, 0, gpa, data.length), 2));
            final byte[] got = new byte[data.length];
            rig.memory.getBytes(gpa, got, 0, got.length);
            assertArrayEquals(data, got);
        }
    }

    @Test
    void aFullQueueRefusesAndRecovers() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 4 << 20, 2))
        {
            final BlockIo a = FileCardRig.io(rig.memory, BlockIo.READ, 0, 0, 4096);
            final BlockIo b = FileCardRig.io(rig.memory, BlockIo.READ, 8, 4096, 4096);
            final BlockIo c = FileCardRig.io(rig.memory, BlockIo.READ, 16, 8192, 4096);
            assertTrue(rig.card.submit(0, a, 1, rig.sink));
            assertTrue(rig.card.submit(0, b, 2, rig.sink));
            assertFalse(rig.card.submit(0, c, 3, rig.sink));
            assertEquals(CardStatus.OK, rig.await(1));
            assertEquals(CardStatus.OK, rig.await(2));
            assertEquals(CardStatus.OK, rig.run(c, 3));
        }
    }

    @Test
    void hostileRequestsAreInvalidAndNeverReachTheRing() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 4, 1))
        {
            // Outside guest memory.
            assertEquals(CardStatus.INVALID, rig.run(FileCardRig.io(rig.memory, BlockIo.READ, 0, 3 * FileCardRig.REGION, 4096), 1));
            // Not whole sectors.
            assertEquals(CardStatus.INVALID, rig.run(FileCardRig.io(rig.memory, BlockIo.WRITE, 0, 0, 1000), 2));
            // No data.
            final BlockIo empty = new BlockIo(1);
            empty.data().reset(rig.memory);
            empty.set(BlockIo.READ, 0);
            assertEquals(CardStatus.INVALID, rig.run(empty, 3));
            // More segments than the slot's iovec array (maxSegments 1 leaves room for 9).
            final BlockIo many = new BlockIo(16);
            many.data().reset(rig.memory);
            for (int i = 0; i < 16; i++)
            {
                many.data().add((long)i * 8192, 512);
            }
            many.set(BlockIo.WRITE, 0);
            assertEquals(CardStatus.INVALID, rig.run(many, 4));
            // An unknown operation.
            final BlockIo odd = new BlockIo(1);
            odd.setRange(42, 0, 1);
            assertEquals(CardStatus.UNSUPPORTED, rig.run(odd, 5));
            assertEquals(0, rig.card.directRequests() + rig.card.bufferedRequests());
            assertArrayEquals(new byte[8192], rig.readFile(0, 8192));
            assertTrue(rig.card.isLinkUp());
        }
    }

    @Test
    void badSpecsGetOneLineErrors() throws IOException
    {
        assertOneLine(assertThrows(IllegalArgumentException.class, () -> new FileCardContext().spec("file:")), "no path");
        assertOneLine(assertThrows(IllegalArgumentException.class, () -> new FileCardContext().spec("nbd://x/y")), "not file:PATH");
        assertOneLine(assertThrows(IllegalArgumentException.class, () -> new FileCardContext().path("/x").queueDepth(0).conclude()), "queueDepth 0");
        FileCardRig.requireIoUring();
        assertOneLine(assertThrows(IllegalArgumentException.class,
            () -> FileBlockCard.open(new FileCardContext().spec("file:" + dir))), "EISDIR");
        assertOneLine(assertThrows(IllegalArgumentException.class,
            () -> FileBlockCard.open(new FileCardContext().spec("file:/dev/null"))), "not a regular file or block device");
        assertOneLine(assertThrows(IllegalArgumentException.class,
            () -> FileBlockCard.open(new FileCardContext().spec("file:" + dir.resolve("missing.img")))), "ENOENT");
    }

    private static void assertOneLine(final Exception ex, final String fragment)
    {
        final String message = ex.getMessage();
        assertTrue(message.contains(fragment), message);
        assertFalse(message.contains("\n"), message);
    }
}
