package dev.braid.cards.file;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.memory.GuestMemory;

/**
 * Not a test: a measurement, run on demand (numbers in perf/README.md):
 * {@code ./mvnw -B -ntp -o test -pl backends-native -Dtest=FileCardIopsProbe -Dbraid.file.iops=true}.
 * 4 KiB random O_DIRECT reads on a 128 MiB temp file written first (no holes), one queue, depth 32.
 */
@EnabledIfSystemProperty(named = "braid.file.iops", matches = "true")
class FileCardIopsProbe
{
    private static final int DEPTH = 32;
    private static final long FILE_SIZE = 128L << 20;

    private int outstanding;
    private long done;
    private long errors;

    @Test
    void randomRead4kDepth32() throws IOException
    {
        FileCardRig.requireIoUring();
        final Path file = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "braid-iops", ".img");
        try
        {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
            {
                final byte[] chunk = new byte[1 << 20];
                new SplittableRandom(1).nextBytes(chunk);
                for (long off = 0; off < FILE_SIZE; off += chunk.length)
                {
                    raf.write(chunk);
                }
                raf.getFD().sync();
            }
            final GuestMemory memory = GuestMemory.builder().addAnonymous(0, DEPTH * 4096L).build();
            final BlockIo[] ios = new BlockIo[DEPTH];
            for (int i = 0; i < DEPTH; i++)
            {
                ios[i] = new BlockIo(1);
            }
            final CompletionSink sink = (token, status, length) ->
            {
                if (status != CardStatus.OK)
                {
                    errors++;
                }
                outstanding--;
                done++;
                return true;
            };
            try (FileBlockCard card = FileBlockCard.open(new FileCardContext().spec("file:" + file).queueDepth(DEPTH)))
            {
                final SplittableRandom random = new SplittableRandom(42);
                final long blocks = FILE_SIZE / 4096;
                for (int phase = 0; phase < 2; phase++)
                {
                    final long seconds = phase == 0 ? 1 : 5;
                    done = 0;
                    final long start = System.nanoTime();
                    final long end = start + seconds * 1_000_000_000L;
                    int next = 0;
                    while (System.nanoTime() < end)
                    {
                        while (outstanding < DEPTH)
                        {
                            final BlockIo io = ios[next];
                            io.data().reset(memory);
                            io.data().add(next * 4096L, 4096);
                            io.set(BlockIo.READ, random.nextLong(blocks) * 8);
                            if (!card.submit(0, io, next, sink))
                            {
                                break;
                            }
                            next = (next + 1) % DEPTH;
                            outstanding++;
                        }
                        card.poll(0);
                    }
                    final double elapsed = (System.nanoTime() - start) / 1e9;
                    if (phase == 1)
                    {
                        System.out.printf("FileCardIopsProbe: 4 KiB random read, 1 queue, depth %d, O_DIRECT %s: %.0f IOPS (%d reads in %.1f s, %d errors; direct %d, buffered %d)%n",
                            DEPTH, card.directIo(), done / elapsed, done, elapsed, errors, card.directRequests(), card.bufferedRequests());
                    }
                }
                while (outstanding > 0)
                {
                    card.poll(0);
                }
            }
        }
        finally
        {
            Files.deleteIfExists(file);
        }
    }
}
