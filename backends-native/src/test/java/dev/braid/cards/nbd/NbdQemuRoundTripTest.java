package dev.braid.cards.nbd;

import dev.braid.testkit.NbdServers;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every block op through an NbdBlockCard against qemu-nbd, verified on the image file itself. */
class NbdQemuRoundTripTest
{
    private static final long IMAGE = 8L << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "unix={0} structured={1}")
    @CsvSource({"false,true", "true,true", "false,false", "true,false"})
    void everyOpRoundTripsAndLandsInTheFile(final boolean unix, final boolean structured) throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final Path image = servers.image("disk.raw", IMAGE);
            final NbdServers.Server server = servers.qemuNbd(image, "disk", unix);
            final NbdTestRig rig = new NbdTestRig(4L << 20);
            try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("q").structuredReplies(structured)
                // Simple-reply runs also send every write with NBD_CMD_FLAG_FUA.
                .forceUnitAccess(!structured)))
            {
                assertEquals(IMAGE / 512, card.capacitySectors());
                assertEquals(structured, card.structuredReplies(), "structured replies negotiated");
                assertTrue((card.transmissionFlags() & NbdProtocol.TFLAG_SEND_FUA) != 0, "qemu-nbd offers FUA");
                assertTrue(card.isLinkUp());

                // WRITE 192 KiB from three guest segments at sector 100, then READ it back into other memory.
                final int length = 192 << 10;
                final byte[] data = NbdTestRig.pattern(1, length);
                rig.fill(0, data);
                rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.WRITE, 100, 0, length, 3)), length);
                rig.expectOk(rig.run(card, 0, rig.rangeIo(BlockIo.FLUSH, 0, 0)), 0);
                assertArrayEquals(data, fileBytes(image, 100 * 512, length), "written data in the file");

                rig.poison(1 << 20, length + 4096);
                rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.READ, 100, 1 << 20, length, 5)), length);
                assertArrayEquals(data, rig.read(1 << 20, length), "read back");
                rig.assertPoisoned((1 << 20) + length, 4096, "past the read buffer");

                // WRITE_ZEROES over sectors 110..130, DISCARD over 200..300 (qemu-nbd --discard=unmap punches the raw file).
                rig.expectOk(rig.run(card, 0, rig.rangeIo(BlockIo.WRITE_ZEROES, 110, 20)), 0);
                rig.expectOk(rig.run(card, 0, rig.rangeIo(BlockIo.DISCARD, 200, 100)), 0);
                rig.expectOk(rig.run(card, 0, rig.rangeIo(BlockIo.FLUSH, 0, 0)), 0);
                final byte[] expected = data.clone();
                Arrays.fill(expected, 10 * 512, 30 * 512, (byte)0);
                Arrays.fill(expected, 100 * 512, 200 * 512, (byte)0);
                assertArrayEquals(expected, fileBytes(image, 100 * 512, length), "zeroed and discarded ranges in the file");
                rig.poison(1 << 20, length);
                rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.READ, 100, 1 << 20, length, 1)), length);
                assertArrayEquals(expected, rig.read(1 << 20, length), "read after zeroing");

                // The last sector reads; one past the end is INVALID, not sent.
                rig.expectOk(rig.run(card, 0, rig.dataIo(BlockIo.READ, IMAGE / 512 - 1, 0, 512, 1)), 512);
                assertEquals(CardStatus.INVALID, rig.run(card, 0, rig.dataIo(BlockIo.READ, IMAGE / 512, 0, 512, 1))[0]);
                assertEquals(CardStatus.INVALID, rig.run(card, 0, rig.rangeIo(BlockIo.DISCARD, IMAGE / 512 - 1, 2))[0]);
                assertTrue(card.isLinkUp(), "the card is still up: " + card.lastFailure());
            }
        }
    }

    static byte[] fileBytes(final Path file, final long offset, final int length) throws Exception
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r"))
        {
            final byte[] out = new byte[length];
            raf.seek(offset);
            raf.readFully(out);
            return out;
        }
    }
}
