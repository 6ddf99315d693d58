package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.testkit.DiskImages;
import dev.braid.testkit.RealPeers;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.memory.GuestMemory;

/** The card on a block device (a loop device over a temp image): capacity from BLKGETSIZE64, O_DIRECT, every op. */
class FileBlockDeviceTest
{
    @TempDir
    Path dir;

    @Test
    void aLoopDeviceIsABlockCard() throws Exception
    {
        FileCardRig.requireIoUring();
        RealPeers.requireRoot();
        final Path losetup = RealPeers.requireExecutable("losetup");
        RealPeers.requireFile("/dev/loop-control");
        final Path image = DiskImages.sparse(Files.createTempFile(dir, "braid-loop", ".img"), 6 << 20);
        final String device = run(losetup.toString(), "-f", "--show", image.toString()).trim();
        assertTrue(device.startsWith("/dev/loop"), device);
        try
        {
            final long seed = Long.getLong("braid.seed", System.nanoTime());
            System.out.println("FileBlockDeviceTest seed " + seed + " on " + device);
            final Random random = new Random(seed);
            final GuestMemory memory = GuestMemory.builder().addAnonymous(0, 1 << 20).build();
            try (FileBlockCard card = FileBlockCard.open(new FileCardContext().spec("file:" + device).queueDepth(8)))
            {
                assertTrue(card.isBlockDevice());
                assertEquals((6 << 20) / 512, card.capacitySectors());
                assertTrue(card.directIo(), String.valueOf(card.directUnavailable()));
                final OneRequest rig = new OneRequest(card);
                {
                    final byte[] data = new byte[32 << 10];
                    random.nextBytes(data);
                    memory.putBytes(8192, data, 0, data.length);
                    assertEquals(CardStatus.OK, rig.run(FileCardRig.io(memory, BlockIo.WRITE, 128, 8192, data.length)));
                    final BlockIo flush = new BlockIo(1);
                    flush.setRange(BlockIo.FLUSH, 0, 0);
                    assertEquals(CardStatus.OK, rig.run(flush));
                    assertArrayEquals(data, readDevice(device, 128 * 512, data.length));
                    memory.setMemory(65536, data.length, (byte)0);
                    assertEquals(CardStatus.OK, rig.run(FileCardRig.io(memory, BlockIo.READ, 128, 65536, data.length)));
                    final byte[] got = new byte[data.length];
                    memory.getBytes(65536, got, 0, got.length);
                    assertArrayEquals(data, got);
                    assertEquals(2, card.directRequests());

                    final BlockIo zeroes = new BlockIo(1);
                    zeroes.setRange(BlockIo.WRITE_ZEROES, 128, 16);
                    final int zs = rig.run(zeroes);
                    System.out.println("FileBlockDeviceTest: write-zeroes on " + device + ": " + CardStatus.describe(zs));
                    if (zs == CardStatus.OK)
                    {
                        assertArrayEquals(new byte[16 * 512], readDevice(device, 128 * 512, 16 * 512));
                    }
                    final BlockIo discard = new BlockIo(1);
                    discard.setRange(BlockIo.DISCARD, 144, 16);
                    final int ds = rig.run(discard);
                    System.out.println("FileBlockDeviceTest: discard on " + device + ": " + CardStatus.describe(ds));
                    assertTrue(ds == CardStatus.OK || ds == CardStatus.UNSUPPORTED, CardStatus.describe(ds));
                }
            }
        }
        finally
        {
            run(losetup.toString(), "-d", device);
        }
    }

    private static byte[] readDevice(final String device, final long offset, final int length) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(device, "r"))
        {
            final byte[] bytes = new byte[length];
            raf.seek(offset);
            raf.readFully(bytes);
            return bytes;
        }
    }

    private static String run(final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), String.join(" ", command) + " hung");
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
        return output;
    }

    /** Submits on queue 0 and polls until the one request completes. */
    private static final class OneRequest
    {
        private final FileBlockCard card;
        private int status = -1;
        private boolean done;

        OneRequest(final FileBlockCard card)
        {
            this.card = card;
        }

        int run(final BlockIo io)
        {
            done = false;
            assertTrue(card.submit(0, io, 1, (token, s, len) ->
            {
                status = s;
                done = true;
                return true;
            }));
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (!done)
            {
                card.poll(0);
                assertTrue(System.nanoTime() < deadline, "request never completed");
            }
            return status;
        }
    }
}
