package dev.braid.examples;

import dev.braid.cards.file.FileBlockCard;
import dev.braid.cards.file.FileCardContext;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.testkit.DiskImages;
import dev.braid.virtio.card.BlockCard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code braid serve --device blk}'s GET_ID serial: a file's stable id (device and inode) when every
 * card is a file card of that one file, so every path and every run shows the guest the same serial;
 * the device's default otherwise (sim, NBD, or files that are not one).
 */
class ServeBlkSerialTest
{
    @TempDir
    Path dir;

    private Path image(final String name) throws Exception
    {
        return DiskImages.sparse(dir.resolve(name), 1 << 20);
    }

    private static FileBlockCard open(final Path image, final String name)
    {
        return FileBlockCard.open(new FileCardContext().spec("file:" + image).name(name).queueCount(1).queueDepth(8));
    }

    @Test
    void filePathsToOneFileGiveItsStableIdAnythingElseTheDefault() throws Exception
    {
        final Path disk = image("disk.img");
        final Path other = image("other.img");
        try (FileBlockCard a = open(disk, "file0"); FileBlockCard b = open(disk, "file1"); FileBlockCard c = open(other, "file2"))
        {
            final String id = new String(a.stableId(), StandardCharsets.US_ASCII);
            assertTrue(id.length() >= 3 && id.length() <= 20, "a serial of at most 20 bytes: " + id);
            assertEquals(id, ServeCommand.blkSerial(List.of(a, b)), "two paths to one file: its stable id");
            assertEquals(id, ServeCommand.blkSerial(List.of(a)));
            assertNotEquals(id, new String(c.stableId(), StandardCharsets.US_ASCII), "another file, another id");
            assertNull(ServeCommand.blkSerial(List.of(a, c)), "two files (--force-identity): no one file's id");
            final BlockCard sim = SimDisk.builder("sim0", new SharedBlockStore(2048)).build();
            assertNull(ServeCommand.blkSerial(List.of(sim)), "a sim store has no stable id: the default");
            assertNull(ServeCommand.blkSerial(List.of(a, sim)), "not every card a file card: the default");
        }
        try (FileBlockCard again = open(disk, "file0"))
        {
            assertEquals(ServeCommand.blkSerial(List.of(again)), new String(again.stableId(), StandardCharsets.US_ASCII));
        }
    }
}
