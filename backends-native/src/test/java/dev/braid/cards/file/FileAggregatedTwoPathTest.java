package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.cards.rig.VerifyingBlkGuests;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.mapper.DispatchMode;
import dev.braid.testkit.DiskImages;
import dev.braid.virtio.card.BlockCard;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.virtio.blk.BlkRequestParser;

/**
 * Two file cards over one image (two paths to one disk) behind one aggregated virtio-blk device,
 * driven by the verifying guest workload: every read returns the last completed write, no request
 * lost or duplicated, and the GET_ID serial is the file's stable id (same on both paths).
 */
class FileAggregatedTwoPathTest
{
    private static final int QUEUES = 2;
    private static final int QUEUE_SIZE = 64;
    private static final int REQUESTS_PER_QUEUE = 3000;

    @TempDir
    Path dir;

    @Test
    void twoFileCardsOverOneImageServeAVerifyingGuest() throws Exception
    {
        FileCardRig.requireIoUring();
        final long seed = Long.getLong("braid.seed", System.nanoTime());
        System.out.println("FileAggregatedTwoPathTest seed " + seed + " (replay with -Dbraid.seed=" + seed + ")");
        final Path image = DiskImages.sparse(Files.createTempFile(dir, "braid-two-path", ".img"), 16 << 20);
        try (FileBlockCard a = FileBlockCard.open(new FileCardContext().spec("file:" + image).name("path0").queueCount(QUEUES).queueDepth(32));
            FileBlockCard b = FileBlockCard.open(new FileCardContext().spec("file:" + image).name("path1").queueCount(QUEUES).queueDepth(32)))
        {
            assertEquals(a.deviceId(), b.deviceId());
            assertEquals(a.inode(), b.inode());
            final byte[] serial = a.stableId();
            final VerifyingBlkGuests guests = new VerifyingBlkGuests(QUEUES, QUEUE_SIZE, 16, REQUESTS_PER_QUEUE, seed);
            final BlkRequestHandler[] handlers = new BlkRequestHandler[QUEUES];
            for (int q = 0; q < QUEUES; q++)
            {
                handlers[q] = new BlkRequestHandler(guests.memory, new BlkRequestParser().capacity(a.capacitySectors()), QUEUE_SIZE, 16, serial);
            }
            final AggregatedDevice<BlockCard> device = AggregatedDevice.<BlockCard>builder().seed(seed)
                .card(a)
                .card(b)
                .queues(guests.deviceQueues, handlers)
                .probeHandler(new BlkProbeHandler(8))
                .mapPolicy(new ActiveActivePolicy(QUEUES, DispatchMode.QUEUE_AFFINE))
                .dispatchPolicy(DispatchPolicy.queueAffine())
                .healthConfig(new HealthConfig().completionTimeoutNanos(TimeUnit.SECONDS.toNanos(5)))
                .build();
            final AgentThreads threads = AgentThreads.start(device.agents(), 2, AgentThreads.backoff());
            try
            {
                guests.runAndVerify(threads, 5, done -> { });
                System.out.println("FileAggregatedTwoPathTest: reads " + guests.reads() + ", writes " + guests.writes() +
                    "; path0 direct/buffered " + a.directRequests() + "/" + a.bufferedRequests() +
                    ", path1 " + b.directRequests() + "/" + b.bufferedRequests() +
                    "; sleeping io_uring_enters (idle card waits) " + a.waitCalls() + "/" + b.waitCalls());
                assertTrue(a.directRequests() + a.bufferedRequests() > 0 && b.directRequests() + b.bufferedRequests() > 0,
                    "both paths served requests");
            }
            finally
            {
                threads.close();
            }
        }
    }
}
