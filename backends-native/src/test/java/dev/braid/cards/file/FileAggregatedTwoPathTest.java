package dev.braid.cards.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.mapper.DispatchMode;
import dev.braid.virtio.card.BlockCard;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;

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
        final Path image = Files.createTempFile(dir, "braid-two-path", ".img");
        try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw"))
        {
            raf.setLength(16 << 20);
        }
        try (FileBlockCard a = FileBlockCard.open(new FileCardContext().spec("file:" + image).name("path0").queueCount(QUEUES).queueDepth(32));
            FileBlockCard b = FileBlockCard.open(new FileCardContext().spec("file:" + image).name("path1").queueCount(QUEUES).queueDepth(32)))
        {
            assertEquals(a.deviceId(), b.deviceId());
            assertEquals(a.inode(), b.inode());
            final byte[] serial = a.stableId();
            final GuestMemory memory = GuestMemory.allocate(16 << 20);
            final DeviceQueue[] deviceQueues = new DeviceQueue[QUEUES];
            final BlkRequestHandler[] handlers = new BlkRequestHandler[QUEUES];
            final BlkGuestWorkload[] guests = new BlkGuestWorkload[QUEUES];
            long gpa = 0;
            for (int q = 0; q < QUEUES; q++)
            {
                final RingLayout layout = RingLayout.split(gpa, QUEUE_SIZE, 4);
                final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, true);
                deviceQueues[q] = new SplitQueue(memory, QUEUE_SIZE, layout.descGpa(), layout.availGpa(), layout.usedGpa(), true, true);
                handlers[q] = new BlkRequestHandler(memory, new BlkRequestParser().capacity(a.capacitySectors()), QUEUE_SIZE, 16, serial);
                final long area = RingLayout.alignUp(layout.endGpa(), 64);
                guests[q] = BlkGuestWorkload.builder().queue(q, driver).memory(memory).areaGpa(area).range(q * 8192L, 8192)
                    .maxPerRequest(16).requests(REQUESTS_PER_QUEUE).maxOutstanding(16).seed(seed + q).build();
                gpa = RingLayout.alignUp(area + (long)QUEUE_SIZE * BlkGuestWorkload.slotBytes(16), 4096);
            }
            final AggregatedDevice<BlockCard> device = AggregatedDevice.<BlockCard>builder().seed(seed)
                .card(a)
                .card(b)
                .queues(deviceQueues, handlers)
                .probeHandler(new BlkProbeHandler(8))
                .mapPolicy(new ActiveActivePolicy(QUEUES, DispatchMode.QUEUE_AFFINE))
                .dispatchPolicy(DispatchPolicy.queueAffine())
                .healthConfig(new HealthConfig().completionTimeoutNanos(TimeUnit.SECONDS.toNanos(5)))
                .build();
            final AgentThreads threads = AgentThreads.start(device.agents(), 2, AgentThreads.backoff());
            final AgentRunner guestRunner = new AgentRunner(new SleepingIdleStrategy(10_000), Throwable::printStackTrace,
                null, new CompositeAgent(guests));
            AgentRunner.startOnThread(guestRunner);
            try
            {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (!(guests[0].isFinished() && guests[1].isFinished()) && System.nanoTime() < deadline)
                {
                    Thread.sleep(5);
                }
                assertNull(threads.failure(), "no agent failed");
                for (final BlkGuestWorkload guest : guests)
                {
                    assertTrue(guest.isFinished(), "every request completed (lost: " + guest.outstanding() + ")");
                    assertEquals(0, guest.strays(), "duplicate or stray completions");
                    assertEquals(0, guest.corrupt(), "reads that did not return the last completed write");
                    assertEquals(0, guest.errors(), "guest errors");
                }
                System.out.println("FileAggregatedTwoPathTest: reads " + (guests[0].reads() + guests[1].reads()) +
                    ", writes " + (guests[0].writes() + guests[1].writes()) +
                    "; path0 direct/buffered " + a.directRequests() + "/" + a.bufferedRequests() +
                    ", path1 " + b.directRequests() + "/" + b.bufferedRequests());
                assertTrue(a.directRequests() + a.bufferedRequests() > 0 && b.directRequests() + b.bufferedRequests() > 0,
                    "both paths served requests");
            }
            finally
            {
                guestRunner.close();
                threads.close();
            }
        }
    }
}
