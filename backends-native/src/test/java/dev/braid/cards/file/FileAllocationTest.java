package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;

/** The worker thread allocates nothing per request in steady state (submit, io_uring_enter, reap). */
class FileAllocationTest
{
    private static final int DEPTH = 8;

    @TempDir
    Path dir;

    private int outstanding;
    private int failures;

    @Test
    void steadyStateSubmitAndPollAllocateNothing() throws IOException
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        try (FileCardRig rig = new FileCardRig(dir, 4 << 20, DEPTH))
        {
            final BlockIo[] ios = new BlockIo[DEPTH];
            for (int i = 0; i < DEPTH; i++)
            {
                // Half O_DIRECT, half buffered (odd address), reads and writes.
                final long gpa = (i & 1) == 0 ? (long)i * 8192 : (long)i * 8192 + 1;
                ios[i] = FileCardRig.io(rig.memory, (i & 2) == 0 ? BlockIo.READ : BlockIo.WRITE, (long)i * 8, gpa, 4096);
            }
            final CompletionSink sink = (token, status, length) ->
            {
                if (status != CardStatus.OK)
                {
                    failures++;
                }
                outstanding--;
                return true;
            };
            final long tid = Thread.currentThread().getId();
            run(rig, ios, sink, 20_000);
            final long before = threads.getThreadAllocatedBytes(tid);
            final int measured = 50_000;
            run(rig, ios, sink, measured);
            final long bytes = threads.getThreadAllocatedBytes(tid) - before;
            System.out.println("FileAllocationTest: " + bytes + " bytes over " + measured + " requests; direct " +
                rig.card.directRequests() + ", buffered " + rig.card.bufferedRequests());
            assertEquals(0, failures);
            assertTrue(bytes < 1024, bytes + " bytes allocated over " + measured + " requests");
        }
    }

    private void run(final FileCardRig rig, final BlockIo[] ios, final CompletionSink sink, final int requests)
    {
        int submitted = 0;
        int next = 0;
        while (submitted < requests || outstanding > 0)
        {
            while (submitted < requests && outstanding < DEPTH)
            {
                if (!rig.card.submit(0, ios[next], next, sink))
                {
                    break;
                }
                next = (next + 1) % DEPTH;
                outstanding++;
                submitted++;
            }
            rig.card.poll(0);
        }
    }
}
