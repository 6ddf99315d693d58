package dev.braid.cards.nbd;

import dev.braid.testkit.NbdServers;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the submit/poll path allocates on the card worker's thread in steady state. Braid's own code
 * allocates nothing per request; what remains is Netty's (measured ~16 bytes per request on 4.2.18,
 * amortized: the leak detector's sampled stack traces, 1 in 128 buffers at the default level and
 * nothing with -Dio.netty.leakDetection.level=disabled, and the event loop task queue's chunks for
 * one hand-off per batch). A write from the worker by {@code channel.write} allocated a write task per
 * request (~48 bytes per request): {@link NbdSendRing} replaced it. The bound catches anything added.
 */
class NbdAllocationTest
{
    private static final int DEPTH = 8;
    private static final int LENGTH = 4096;

    @TempDir
    Path dir;

    private long completed;
    private long failed;

    @Test
    void steadyStateSubmitAndPollAllocateOnlyNettysHandOff() throws Exception
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        try (NbdServers servers = new NbdServers(dir))
        {
            final NbdServers.Server server = servers.nbdkit(List.of(), "memory", "size=16M");
            final NbdTestRig rig = new NbdTestRig(1 << 20);
            try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(server.uri()).name("alloc").queueDepth(DEPTH)))
            {
                final BlockIo[] ios = new BlockIo[DEPTH];
                for (int i = 0; i < DEPTH; i++)
                {
                    ios[i] = rig.dataIo(i % 2 == 0 ? BlockIo.WRITE : BlockIo.READ, i * 8L, i * (long)LENGTH, LENGTH, 2);
                }
                final CompletionSink sink = (token, status, length) ->
                {
                    if (status == CardStatus.OK)
                    {
                        completed++;
                    }
                    else
                    {
                        failed++;
                    }
                    return true;
                };
                drive(card, ios, sink, 20_000);
                final long tid = Thread.currentThread().getId();
                final long before = threads.getThreadAllocatedBytes(tid);
                final int measured = 20_000;
                drive(card, ios, sink, measured);
                final long bytes = threads.getThreadAllocatedBytes(tid) - before;
                System.out.println("NbdAllocationTest: " + bytes + " bytes allocated over " + measured +
                    " requests on the worker thread (" + (double)bytes / measured + " per request)");
                assertEquals(0, failed);
                assertTrue(bytes / measured < 32, bytes + " bytes over " + measured + " requests");
            }
        }
    }

    /** Keeps DEPTH requests in flight until {@code requests} more have completed; slot i always holds ios[i]. */
    private void drive(final NbdBlockCard card, final BlockIo[] ios, final CompletionSink sink, final int requests)
    {
        final long target = completed + failed + requests;
        long submitted = completed + failed;
        int next = 0;
        while (completed + failed < target)
        {
            while (submitted < target && card.inFlight(0) < DEPTH)
            {
                // Tokens are the BlockIo's index; a slot is reused only after its completion was reported.
                if (!card.submit(0, ios[next], next, sink))
                {
                    break;
                }
                next = (next + 1) % DEPTH;
                submitted++;
            }
            card.poll(0);
        }
    }
}
