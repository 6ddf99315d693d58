package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.testkit.DiskImages;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.memory.GuestMemory;

/**
 * A fence deadline too short for the kernel: the queue is failed hard (ring closed), fence still
 * returns, the requests left in the kernel are abandoned (never reported), the link goes down.
 */
class FileHardFailTest
{
    @TempDir
    Path dir;

    @Test
    void aRingThatMissesTheFenceDeadlineIsFailedHard() throws IOException, InterruptedException
    {
        FileCardRig.requireIoUring();
        final Path file = DiskImages.sparse(Files.createTempFile(dir, "braid-hard-fail", ".img"), 64 << 20);
        final GuestMemory memory = GuestMemory.builder().addAnonymous(0, 8 << 20).build();
        final AtomicInteger reported = new AtomicInteger();
        final AtomicInteger linkDown = new AtomicInteger();
        final CompletionSink sink = (token, status, length) ->
        {
            reported.incrementAndGet();
            return true;
        };
        boolean failedHard = false;
        for (int attempt = 0; attempt < 50 && !failedHard; attempt++)
        {
            try (FileBlockCard card = FileBlockCard.open(new FileCardContext().spec("file:" + file).name("hard")
                .queueDepth(32).fenceTimeout(1, TimeUnit.NANOSECONDS).submitBatch(32)))
            {
                card.setEventListener(new CardEventListener()
                {
                    @Override
                    public void onLinkChange(final Card c, final boolean up)
                    {
                        if (!up)
                        {
                            linkDown.incrementAndGet();
                        }
                    }

                    @Override
                    public void onCardError(final Card c, final int code)
                    {
                    }
                });
                reported.set(0);
                for (int i = 0; i < 32; i++)
                {
                    final BlockIo io = new BlockIo(1);
                    io.data().reset(memory);
                    io.data().add((long)i * (256 << 10), 256 << 10);
                    io.set(BlockIo.WRITE, (long)i * 512);
                    assertTrue(card.submit(0, io, i, sink));
                }
                // One enter for all 32 (submitBatch 32) right before the fence, so the fence finds them in the kernel.
                card.poll(0);
                card.fence();
                if (card.failure() == null)
                {
                    // The kernel beat a 1 ns deadline this time: every request is accounted for.
                    while (card.inFlight(0) > 0)
                    {
                        card.poll(0);
                    }
                    assertEquals(32, reported.get());
                    continue;
                }
                failedHard = true;
                assertFalse(card.isLinkUp());
                assertNotNull(card.failure());
                assertTrue(card.failure().contains("deadline"), card.failure());
                assertEquals(1, linkDown.get());
                assertTrue(card.abandonedCount() > 0);
                card.unfence();
                final BlockIo io = new BlockIo(1);
                io.data().reset(memory);
                io.data().add(0, 4096);
                io.set(BlockIo.READ, 0);
                assertFalse(card.submit(0, io, 99, sink), "a failed queue refuses submissions");
                card.poll(0);
                card.poll(0);
                // Only what was reaped before the deadline is reported; the abandoned never are.
                assertEquals(32 - card.abandonedCount(), reported.get());
            }
            // Give the kernel time to finish the abandoned writes before the next attempt reuses memory.
            Thread.sleep(50);
        }
        System.out.println("FileHardFailTest: failed hard = " + failedHard);
        assertTrue(failedHard, "no attempt missed a 1 ns fence deadline");
    }
}
