package dev.braid.aggregator;

import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.ha.CardPool;
import dev.braid.mapper.DispatchMode;
import dev.braid.ha.HaController;
import dev.braid.ha.HealthConfig;
import dev.braid.ha.MapPolicy;
import dev.braid.ha.RebalancePlan;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.QueueMap;
import dev.braid.sim.CardFault;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The HA controller and the control plane share plain fields (the pool, the probe requests), so
 * they must run on one thread however {@link AgentThreads} deals the device's agents. Records the
 * thread of every map-policy call (made only inside the controller's duty cycle) and of every
 * control-plane duty cycle and fence hook, under real threads with a card failing and coming back,
 * and requires a single thread.
 */
class ControlColocationTest
{
    @ParameterizedTest
    @ValueSource(ints = { 1, 2, 3, 4 })
    void controllerAndControlPlaneRunOnOneThread(final int threadCount) throws Exception
    {
        final Set<String> controllerThreads = ConcurrentHashMap.newKeySet();
        final Set<String> controlThreads = ConcurrentHashMap.newKeySet();
        final AtomicBoolean recording = new AtomicBoolean();
        final AtomicInteger fenced = new AtomicInteger();

        final SharedBlockStore store = new SharedBlockStore(1024);
        final SimDisk[] disks = new SimDisk[2];
        final AggregatedDevice.Builder<BlockCard> builder = AggregatedDevice.builder();
        for (int i = 0; i < disks.length; i++)
        {
            disks[i] = SimDisk.builder("disk" + i, store).latency(LatencyModel.uniform(10_000, 20_000)).queues(1, 8).seed(i).build();
            builder.card(disks[i]);
        }
        final GuestMemory memory = GuestMemory.allocate(1 << 20);
        final RingLayout layout = RingLayout.split(0, 16, 4);
        final DeviceQueue[] queues = {
            new SplitQueue(memory, 16, layout.descGpa(), layout.availGpa(), layout.usedGpa(), true, true) };
        final RequestHandler[] handlers = {
            new BlkRequestHandler(memory, new BlkRequestParser().capacity(store.sectors()), 16, 16,
                "braid-colocation".getBytes(StandardCharsets.US_ASCII)) };
        final MapPolicy inner = new ActiveActivePolicy(1, DispatchMode.QUEUE_AFFINE);
        final MapPolicy recordingPolicy = new MapPolicy()
        {
            public int guestQueueCount()
            {
                return inner.guestQueueCount();
            }

            public QueueMap repair(final QueueMap current, final CardPool pool, final long nowNanos)
            {
                record(controllerThreads, recording);
                return inner.repair(current, pool, nowNanos);
            }

            public RebalancePlan plan(final QueueMap current, final CardPool pool, final long nowNanos)
            {
                record(controllerThreads, recording);
                return inner.plan(current, pool, nowNanos);
            }

            public long reevaluateAtNanos(final QueueMap current, final CardPool pool, final long nowNanos)
            {
                record(controllerThreads, recording);
                return inner.reevaluateAtNanos(current, pool, nowNanos);
            }
        };
        final AggregatedDevice<BlockCard> device = builder
            .queues(queues, handlers)
            .probeHandler(new BlkProbeHandler(8))
            .mapPolicy(recordingPolicy)
            .dispatchPolicy(DispatchPolicy.queueAffine())
            .healthConfig(new HealthConfig().completionTimeoutNanos(20_000_000).minDownNanos(2_000_000)
                .probeIntervalNanos(1_000_000).upAfterProbes(1))
            .controlPlaneListener(new ControlPlaneListener()
            {
                public void onCardFenced(final int card, final long nowNanos)
                {
                    fenced.incrementAndGet();
                    record(controlThreads, recording);
                }

                public int doWork(final long nowNanos)
                {
                    record(controlThreads, recording);
                    return 0;
                }
            })
            .build();

        for (final Agent agent : device.agents())
        {
            assertFalse(agent instanceof HaController,
                "the controller is scheduled apart from the control plane: " + device.agents());
        }

        recording.set(true);
        final AgentThreads threads = AgentThreads.start(device.agents(), threadCount, AgentThreads.backoff());
        try
        {
            for (int round = 0; round < 3; round++)
            {
                disks[round % 2].inject(CardFault.LINK_DOWN, 0);
                awaitTrue(() -> fenced.get() > 0 && !controllerThreads.isEmpty(), "the card was fenced");
                disks[round % 2].rejoin();
                final int card = round % 2;
                awaitTrue(() -> device.health(card) == dev.braid.ha.HealthState.UP && !device.port(card).isFenced(),
                    "the card came back");
                fenced.set(0);
            }
            assertNull(threads.failure(), "no agent failed");
        }
        finally
        {
            threads.close();
        }
        assertFalse(controllerThreads.isEmpty(), "the controller ran its map policy");
        assertFalse(controlThreads.isEmpty(), "the control plane ran");
        final Set<String> all = ConcurrentHashMap.newKeySet();
        all.addAll(controllerThreads);
        all.addAll(controlThreads);
        assertEquals(1, all.size(), "controller ran on " + controllerThreads + ", control plane on " + controlThreads +
            " with " + threadCount + " threads");
    }

    private static void record(final Set<String> threads, final AtomicBoolean recording)
    {
        if (recording.get())
        {
            threads.add(Thread.currentThread().getName() + "#" + Thread.currentThread().getId());
        }
    }

    private static void awaitTrue(final java.util.function.BooleanSupplier condition, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, "timed out waiting: " + what);
            Thread.sleep(1);
        }
    }
}
