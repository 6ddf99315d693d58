package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.braid.testkit.DiskImages;
import dev.braid.testkit.RealPeers;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.memory.GuestMemory;

/** A temp file, a file card over it, two adjacent guest memory regions, and a sink indexed by token. */
final class FileCardRig implements AutoCloseable
{
    static final long REGION = 1 << 20;

    final Path file;
    final FileBlockCard card;
    final GuestMemory memory = GuestMemory.builder().addAnonymous(0, REGION).addAnonymous(REGION, REGION).build();
    final int[] status = new int[1 << 16];
    final int[] length = new int[1 << 16];
    final boolean[] done = new boolean[1 << 16];
    int completed;
    final CompletionSink sink = (token, s, len) ->
    {
        status[(int)token] = s;
        length[(int)token] = len;
        done[(int)token] = true;
        completed++;
        return true;
    };

    static void requireIoUring()
    {
        final String why = FileBlockCard.unavailableReason();
        RealPeers.require(why == null, "io_uring", why);
    }

    FileCardRig(final Path dir, final long size, final int depth) throws IOException
    {
        this(dir, size, depth, 256);
    }

    FileCardRig(final Path dir, final long size, final int depth, final int maxSegments) throws IOException
    {
        this(dir, size, depth, maxSegments, 1);
    }

    /** {@code submitBatch} > 1 keeps prepared requests out of the kernel until that many or a poll. */
    FileCardRig(final Path dir, final long size, final int depth, final int maxSegments, final int submitBatch)
        throws IOException
    {
        requireIoUring();
        file = DiskImages.sparse(Files.createTempFile(dir, "braid-file-card", ".img"), size);
        card = FileBlockCard.open(new FileCardContext().spec("file:" + file).name("f0").queueDepth(depth).maxSegments(maxSegments)
            .submitBatch(submitBatch));
    }

    /** Polls queue 0 until {@code token} completes (bounded, so a lost completion fails the test). */
    int await(final long token)
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done[(int)token])
        {
            if (card.poll(0) == 0)
            {
                Thread.onSpinWait();
            }
            assertTrue(System.nanoTime() < deadline, "token " + token + " never completed");
        }
        done[(int)token] = false;
        return status[(int)token];
    }

    int run(final BlockIo io, final long token)
    {
        assertTrue(card.submit(0, io, token, sink), "submit refused");
        return await(token);
    }

    static BlockIo io(final GuestMemory memory, final int operation, final long sector, final long gpa, final int len)
    {
        final BlockIo io = new BlockIo(256);
        io.data().reset(memory);
        io.data().add(gpa, len);
        io.set(operation, sector);
        return io;
    }

    byte[] readFile(final long offset, final int len) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r"))
        {
            final byte[] bytes = new byte[len];
            raf.seek(offset);
            raf.readFully(bytes);
            return bytes;
        }
    }

    void writeFile(final long offset, final byte[] bytes) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.seek(offset);
            raf.write(bytes);
        }
    }

    static String describe(final int status)
    {
        return CardStatus.describe(status);
    }

    @Override
    public void close() throws IOException
    {
        card.close();
        Files.deleteIfExists(file);
    }
}
