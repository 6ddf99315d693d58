package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;

/** {@link FileCardContext#submitBatch}: how many prepared requests wait for one io_uring_enter. */
class FileSubmitBatchTest
{
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    private static FileBlockCard open(final FileCardRig rig, final FileCardContext context)
    {
        return FileBlockCard.open(context.spec("file:" + rig.file).name("batch").queueDepth(16));
    }

    private static void submitReads(final FileCardRig rig, final FileBlockCard card, final int first, final int count)
    {
        for (int i = first; i < first + count; i++)
        {
            final BlockIo io = FileCardRig.io(rig.memory, BlockIo.READ, (long)i * (BLOCK / 512), (long)i * BLOCK, BLOCK);
            assertTrue(card.submit(0, io, i, rig.sink), "submit " + i + " refused");
        }
    }

    /** Polls without letting the poll submit anything new, until {@code count} completions or 10 s. */
    private static void awaitCompletions(final FileCardRig rig, final FileBlockCard card, final int count)
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (rig.completed < count)
        {
            if (card.poll(0) == 0)
            {
                Thread.onSpinWait();
            }
            assertTrue(System.nanoTime() < deadline, rig.completed + " of " + count + " completed");
        }
    }

    @Test
    void byDefaultEachRequestEntersTheKernelInItsSubmit() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 16);
            FileBlockCard card = open(rig, new FileCardContext()))
        {
            assertEquals(1, new FileCardContext().submitBatch());
            submitReads(rig, card, 0, 8);
            // Each submit made its io_uring_enter: the requests are in the kernel before any poll ...
            assertEquals(8, card.submitCalls());
            awaitCompletions(rig, card, 8);
            // ... so polling them home needed no further enter (the card reaps from the mapped ring).
            assertEquals(8, card.submitCalls());
            for (int i = 0; i < 8; i++)
            {
                assertEquals(CardStatus.OK, rig.status[i], "read " + i);
                assertEquals(BLOCK, rig.length[i]);
            }
        }
    }

    @Test
    void aLargerBatchEntersOncePerBatchAndPollSubmitsTheRest() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 16);
            FileBlockCard card = open(rig, new FileCardContext().submitBatch(4)))
        {
            submitReads(rig, card, 0, 3);
            assertEquals(0, card.submitCalls(), "three prepared of a batch of four wait for the poll");
            submitReads(rig, card, 3, 7);
            // The 4th and the 8th submit entered; the 9th and 10th wait.
            assertEquals(2, card.submitCalls());
            card.poll(0);
            assertEquals(3, card.submitCalls(), "the poll hands the kernel the two left over");
            awaitCompletions(rig, card, 10);
            assertEquals(3, card.submitCalls());
        }
    }

    @Test
    void aFenceTakesRequestsPreparedButNotYetEnteredAndReportsThemCancelled() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 16);
            FileBlockCard card = open(rig, new FileCardContext().submitBatch(4)))
        {
            submitReads(rig, card, 0, 3);
            assertEquals(0, card.submitCalls());
            card.fence();
            assertTrue(card.submitCalls() > 0, "the fence handed the prepared entries and its cancel to the kernel");
            awaitCompletions(rig, card, 3);
            for (int i = 0; i < 3; i++)
            {
                assertEquals(CardStatus.CANCELLED, rig.status[i], "read " + i + " completed across the fence");
            }
            assertEquals(3, card.cancelledCount());
        }
    }

    @Test
    void aBatchOfZeroIsRefused()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new FileCardContext().path("/x").submitBatch(0).conclude());
        assertTrue(ex.getMessage().contains("submitBatch 0"), ex.getMessage());
    }
}
