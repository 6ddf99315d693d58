package dev.braid.cards.nbd;

import dev.braid.testkit.NbdServers;
import dev.braid.virtio.card.BlockIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** One connection per card queue when the server sets NBD_FLAG_CAN_MULTI_CONN, one shared otherwise. */
class NbdMultiConnTest
{
    private static final int QUEUES = 4;
    private static final int BLOCK = 16 << 10;
    private static final int BLOCKS_PER_QUEUE = 32;

    @TempDir
    Path dir;

    @Test
    void nbdkitMemoryGetsOneConnectionPerQueue() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final NbdServers.Server server = servers.nbdkit(List.of(), "memory", "size=16M");
            workload(server.uri(), QUEUES, NbdTestRig.seed("NbdMultiConnTest.nbdkit"));
        }
    }

    @Test
    void withoutMultiConnAllQueuesShareOneConnection() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final NbdServers.Server server = servers.nbdkit(List.of("multi-conn"), "memory", "size=16M", "multi-conn-mode=disable");
            workload(server.uri(), 1, NbdTestRig.seed("NbdMultiConnTest.single"));
        }
    }

    @Test
    void qemuNbdConnectionsFollowItsMultiConnFlag() throws Exception
    {
        try (NbdServers servers = new NbdServers(dir))
        {
            final NbdServers.Server server = servers.qemuNbd(servers.image("disk.raw", 16 << 20), "d", true);
            workload(server.uri(), -1, NbdTestRig.seed("NbdMultiConnTest.qemu"));
        }
    }

    /** Each queue's thread writes its own blocks, then reads another queue's blocks back; all verified. */
    private static void workload(final String uri, final int expectedConnections, final long seed) throws Exception
    {
        final NbdTestRig rig = new NbdTestRig(16 << 20);
        try (NbdBlockCard card = NbdBlockCard.open(new NbdCardContext().uri(uri).name("mc").queueCount(QUEUES).queueDepth(8)))
        {
            final boolean multi = (card.transmissionFlags() & NbdProtocol.TFLAG_CAN_MULTI_CONN) != 0;
            assertEquals(multi ? QUEUES : 1, card.connectionCount(), "connections");
            if (expectedConnections > 0)
            {
                assertEquals(expectedConnections, card.connectionCount());
            }
            final byte[][] blocks = new byte[QUEUES * BLOCKS_PER_QUEUE][];
            final Random random = new Random(seed);
            for (int i = 0; i < blocks.length; i++)
            {
                blocks[i] = NbdTestRig.pattern(random.nextLong(), BLOCK);
            }
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            runQueues(failure, q ->
            {
                for (int b = 0; b < BLOCKS_PER_QUEUE; b++)
                {
                    final int block = q * BLOCKS_PER_QUEUE + b;
                    final long gpa = (long)block * BLOCK;
                    rig.fill(gpa, blocks[block]);
                    rig.expectOk(rig.run(card, q, rig.dataIo(BlockIo.WRITE, block * (BLOCK / 512L), gpa, BLOCK, 1 + b % 3)), BLOCK);
                }
                rig.expectOk(rig.run(card, q, rig.rangeIo(BlockIo.FLUSH, 0, 0)), 0);
            });
            runQueues(failure, q ->
            {
                final int other = (q + 1) % QUEUES;
                for (int b = 0; b < BLOCKS_PER_QUEUE; b++)
                {
                    final int block = other * BLOCKS_PER_QUEUE + b;
                    final long gpa = (8L << 20) + (long)block * BLOCK;
                    rig.expectOk(rig.run(card, q, rig.dataIo(BlockIo.READ, block * (BLOCK / 512L), gpa, BLOCK, 2)), BLOCK);
                    assertArrayEquals(blocks[block], rig.read(gpa, BLOCK), "block " + block + " read on queue " + q);
                }
            });
            assertNull(card.lastFailure());
        }
    }

    private interface QueueBody
    {
        void run(int queue) throws Exception;
    }

    private static void runQueues(final AtomicReference<Throwable> failure, final QueueBody body) throws Exception
    {
        final List<Thread> threads = new ArrayList<>();
        for (int q = 0; q < QUEUES; q++)
        {
            final int queue = q;
            final Thread t = new Thread(() ->
            {
                try
                {
                    body.run(queue);
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                }
            }, "queue-" + q);
            threads.add(t);
            t.start();
        }
        for (final Thread t : threads)
        {
            t.join();
        }
        if (null != failure.get())
        {
            throw new AssertionError("a queue failed", failure.get());
        }
    }
}
