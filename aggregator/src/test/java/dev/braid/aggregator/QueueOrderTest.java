package dev.braid.aggregator;

import dev.braid.sim.LatencyModel;
import dev.braid.sim.SimDisk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ForwardingBlockCard;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Per-queue order in queue-affine mode: the writes of one guest queue reach the cards in the order
 * the guest posted them, including across a drained move of the queue to a hot-added card. The
 * guest numbers its writes in posting order and writes the number into the data, so a card-side
 * log of first submissions shows the order the cards saw.
 */
class QueueOrderTest
{
    /** Logs (guest queue, write id) of every write submission, in global submission order. */
    static final class Log
    {
        final List<long[]> writes = new ArrayList<>();
    }

    static BlockCard recording(final SimDisk disk, final Log log)
    {
        return new ForwardingBlockCard(disk)
        {
            public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
            {
                final boolean started = card.submit(queue, io, token, sink);
                if (started && io.operation() == BlockIo.WRITE)
                {
                    final byte[] first = new byte[16];
                    io.data().copyOut(0, first, 0, 16);
                    long writeId = 0;
                    for (int i = 15; i >= 8; i--)
                    {
                        writeId = writeId << 8 | (first[i] & 0xFF);
                    }
                    log.writes.add(new long[]{ CompletionToken.guestQueue(token), writeId });
                }
                return started;
            }
        };
    }

    @Test
    void writesReachTheCardsInPostingOrderAcrossADrainedMove()
    {
        final Log log = new Log();
        final BlkRig.Options options = new BlkRig.Options();
        options.cards = 2;
        options.queues = 4;
        options.spray = false;
        options.requestsPerQueue = 6_000;
        options.wrap = disk -> recording(disk, log);
        final BlkRig rig = new BlkRig(31, options);
        final SimDisk extra = SimDisk.builder("disk-added", rig.disks[0].store()).clock(rig.clock)
            .latency(LatencyModel.uniform(10_000, 50_000)).queues(2, 32).seed(99).build();
        rig.scheduler.addTimerSource(extra);

        final long epochBefore = rig.device.currentMap().epoch();
        rig.scheduler.runUntil(() -> rig.clock.nanoTime() >= 500_000, 10_000_000_000L, 50_000_000L);
        final int added = rig.device.hotAdd(recording(extra, log));
        assertTrue(rig.run(60_000_000_000L), "workload finished");
        rig.assertInvariants();
        assertTrue(rig.device.currentMap().epoch() > epochBefore, "the map changed");
        assertTrue(rig.device.currentMap().usesCard(added), "a guest queue moved to the added card");
        assertTrue(extra.completed() > 0, "the added card served");

        final long[] last = new long[options.queues];
        int checked = 0;
        for (final long[] write : log.writes)
        {
            final int queue = (int)write[0];
            assertTrue(write[1] > last[queue], "guest queue " + queue + " write " + write[1] +
                " reached a card after write " + last[queue]);
            last[queue] = write[1];
            checked++;
        }
        assertTrue(checked > 1_000, "writes checked: " + checked);
    }
}
