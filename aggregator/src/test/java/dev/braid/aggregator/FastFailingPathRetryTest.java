package dev.braid.aggregator;

import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.QueueMap;
import dev.braid.sim.CardFault;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.VirtualClock;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queue-affine active-active gives a guest queue one route. A card that fails every request at once
 * (a killed NBD server's card, before the HA has taken it down) sends each retry straight back to
 * itself: without a back-off the request used up its 1,000 attempts in a few milliseconds and
 * reached the guest as IOERR although the other card was up (NbdTwoPathKillTest, 11 guest errors
 * under load, when the control thread ran late). With the back-off it waits for the remap and
 * completes on the other card.
 */
class FastFailingPathRetryTest
{
    static final long STATUS_GPA = NoPathDeadlineTest.STATUS_GPA;

    final VirtualClock clock = new VirtualClock();
    final GuestMemory memory = GuestMemory.allocate(1 << 20);
    final RingLayout layout = RingLayout.split(0x1000, 4, 4);
    final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, false);
    final SharedBlockStore store = new SharedBlockStore(4096);
    final SimDisk[] disks = {
        SimDisk.builder("d0", store).clock(clock).latency(LatencyModel.ZERO).build(),
        SimDisk.builder("d1", store).clock(clock).latency(LatencyModel.ZERO).build()};
    final AggregatedDevice<SimDisk> device;
    final List<Agent> agents;

    FastFailingPathRetryTest()
    {
        final DeviceQueue queue = new SplitQueue(memory, 4, layout.descGpa(), layout.availGpa(), layout.usedGpa(),
            false, true);
        final RequestHandler<? super SimDisk> handler = new BlkRequestHandler(memory,
            new BlkRequestParser().capacity(4096), 4, 16, "ff".getBytes(StandardCharsets.US_ASCII));
        device = AggregatedDevice.<SimDisk>builder().clock(clock).card(disks[0]).card(disks[1])
            .queues(new DeviceQueue[]{queue}, new RequestHandler[]{handler})
            .probeHandler(new BlkProbeHandler(8))
            .mapPolicy(new ActiveActivePolicy(1, DispatchMode.QUEUE_AFFINE))
            .dispatchPolicy(DispatchPolicy.queueAffine())
            .build();
        agents = device.agents();
    }

    @Test
    void aCardThatFailsAtOnceCannotUseUpARequestsAttemptsBeforeTheRemap() throws Exception
    {
        final QueueMap map = device.currentMap();
        assertEquals(1, map.routeCount(0), "queue-affine: one route");
        final int failing = QueueMap.cardOf(map.route(0, 0));
        disks[failing].inject(CardFault.ERROR_BURST, 1_000_000);

        NoPathDeadlineTest.postRead(memory, driver);

        // The control thread is late: 20 ms of the front queue and the card workers alone.
        for (int i = 0; i < 4_000; i++)
        {
            for (final Agent agent : agents)
            {
                if (!(agent instanceof ControlAgent))
                {
                    agent.doWork();
                }
            }
            clock.advanceBy(TimeUnit.MICROSECONDS.toNanos(5));
        }
        assertEquals(0x7F, memory.getByte(STATUS_GPA) & 0xFF, "not failed to the guest while the other card is up");
        final long attempts = disks[failing].errors();
        assertTrue(attempts < 20, "retries on the failing card backed off: " + attempts);

        // The control thread runs: the errors take the card down, the queue moves, the request completes.
        final int[] reaped = {0};
        for (int i = 0; i < 20_000 && reaped[0] == 0; i++)
        {
            for (final Agent agent : agents)
            {
                agent.doWork();
            }
            clock.advanceBy(TimeUnit.MICROSECONDS.toNanos(5));
            driver.reap((id, len) -> reaped[0]++);
        }
        assertEquals(1, reaped[0], "the request completed");
        assertEquals(0, memory.getByte(STATUS_GPA), "VIRTIO_BLK_S_OK, served by the other card");
    }
}
