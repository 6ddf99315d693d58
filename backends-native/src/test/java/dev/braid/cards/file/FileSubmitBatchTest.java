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

    /** Real blocks on the disk, synced: O_DIRECT reads of them go to the device (a hole's read completes at once). */
    private static void writeAndSync(final FileCardRig rig) throws IOException
    {
        final byte[] data = new byte[16 * BLOCK];
        new java.util.Random(5).nextBytes(data);
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(rig.file.toFile(), "rw"))
        {
            raf.write(data);
            raf.getFD().sync();
        }
    }

    /**
     * Each O_DIRECT read enters the kernel in its own submit, before any poll. Up to five tries: a
     * thread preempted inside an enter for longer than the read may find its CQE posted on return,
     * which looks like a page-cache hit and batches the next submits until the poll.
     */
    @Test
    void byDefaultEachRequestThatGoesToTheDiskEntersTheKernelInItsSubmit() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 16))
        {
            assertEquals(1, new FileCardContext().submitBatch());
            writeAndSync(rig);
            long best = 0;
            for (int attempt = 0; attempt < 5 && best < 8; attempt++)
            {
                try (FileBlockCard card = open(rig, new FileCardContext()))
                {
                    rig.completed = 0;
                    submitReads(rig, card, 0, 8);
                    best = Math.max(best, card.submitCalls());
                    awaitCompletions(rig, card, 8);
                    for (int i = 0; i < 8; i++)
                    {
                        assertEquals(CardStatus.OK, rig.status[i], "read " + i);
                        assertEquals(BLOCK, rig.length[i]);
                    }
                }
            }
            assertEquals(8, best, "in no try did each of 8 submits make its own io_uring_enter");
        }
    }

    /** Page-cache hits complete inside their enter: after the first, submits wait for the poll's one enter. */
    @Test
    void requestsThatCompleteInsideTheirEnterWaitForThePoll() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 16);
            FileBlockCard card = open(rig, new FileCardContext().directIo(false)))
        {
            writeAndSync(rig); // and so in the page cache
            submitReads(rig, card, 0, 8);
            assertEquals(1, card.submitCalls(), "the first read entered and completed there; the other 7 wait");
            card.poll(0);
            assertEquals(2, card.submitCalls(), "one enter for the 7");
            awaitCompletions(rig, card, 8);
            assertEquals(2, card.submitCalls());
            assertEquals(8, card.bufferedRequests());
            for (int i = 0; i < 8; i++)
            {
                assertEquals(CardStatus.OK, rig.status[i], "read " + i);
            }
        }
    }

    @Test
    void aLargerBatchEntersOncePerBatchAndPollSubmitsTheRest() throws IOException
    {
        try (FileCardRig rig = new FileCardRig(dir, 1 << 20, 16))
        {
            writeAndSync(rig);
            boolean seen = false;
            for (int attempt = 0; attempt < 5 && !seen; attempt++)
            {
                try (FileBlockCard card = open(rig, new FileCardContext().submitBatch(4)))
                {
                    rig.completed = 0;
                    submitReads(rig, card, 0, 3);
                    assertEquals(0, card.submitCalls(), "three prepared of a batch of four wait for the poll");
                    submitReads(rig, card, 3, 7);
                    // The 4th and the 8th submit entered (unless the first four looked like page-cache hits).
                    seen = card.submitCalls() == 2;
                    final long before = card.submitCalls();
                    card.poll(0);
                    assertEquals(before + 1, card.submitCalls(), "the poll hands the kernel what is left");
                    awaitCompletions(rig, card, 10);
                }
            }
            assertTrue(seen, "in no try did the 4th and 8th submit each enter");
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
