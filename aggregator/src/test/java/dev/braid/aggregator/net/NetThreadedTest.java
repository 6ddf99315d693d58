package dev.braid.aggregator.net;

import dev.braid.aggregator.AgentThreads;
import dev.braid.testkit.guest.NetGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.testkit.guest.NetGuestWorkload;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * virtio-net with real threads: device agents on two threads, the guest on a third, a NIC
 * fail-stopped and rejoined at random wall-clock moments. Every tx buffer completes exactly once
 * and no reply is corrupt; a reply may arrive twice, since a frame whose completion was in flight
 * at the fence is sent again, which a network allows.
 */
@ExtendWith(SeedExtension.class)
class NetThreadedTest
{
    @Test
    void txCompletesExactlyOnceAcrossWallClockFailovers(final Seed seeded) throws Exception
    {
        final long seed = seeded.value();
        final SplittableRandom random = new SplittableRandom(seed);
        final GuestMemory memory = GuestMemory.allocate(16 << 20);
        final PeerHost peer = new PeerHost(NetAggregationTest.PEER_MAC, NetAggregationTest.PEER_IP);
        final L2Segment segment = new L2Segment(peer);
        final RingLayout rxLayout = RingLayout.split(0, 64, 4);
        final RingLayout txLayout = RingLayout.split(RingLayout.alignUp(rxLayout.endGpa(), 4096), 64, 4);
        final RingLayout ctrlLayout = RingLayout.split(RingLayout.alignUp(txLayout.endGpa(), 4096), 8, 4);
        final long area = RingLayout.alignUp(ctrlLayout.endGpa(), 4096);

        final SimNic[] nics = new SimNic[3];
        for (int i = 0; i < nics.length; i++)
        {
            nics[i] = new SimNic("nic" + i, FrameBuilder.macBytes(0x525400DD0000L + i), segment,
                SystemNanoClock.INSTANCE, 1, 64, 256, 10_000);
        }
        final NetDevice net = VirtioNetDevice.aggregate(new VirtioNetDevice.Context().memory(memory).cards(List.of(nics))
            .mac(NetAggregationTest.DEVICE_MAC).seed(seed).aggregation(Aggregation.activeActive(SelectorKind.FLOW_HASH))
            .health(new HealthConfig().completionTimeoutNanos(20_000_000).minDownNanos(10_000_000)
                .probeIntervalNanos(5_000_000)),
            new DeviceQueue[]{ queue(memory, rxLayout) }, new DeviceQueue[]{ queue(memory, txLayout) },
            queue(memory, ctrlLayout), NetAggregation.defaultFeatures());
        final NetGuestWorkload guest = NetGuestWorkload.builder().queues(new SplitDriverQueue(memory, rxLayout, true),
            new SplitDriverQueue(memory, txLayout, true), new SplitDriverQueue(memory, ctrlLayout, true)).memory(memory)
            .areaGpa(area).guest(NetAggregationTest.DEVICE_MAC, NetAggregationTest.GUEST_IP)
            .peer(NetAggregationTest.PEER_MAC, NetAggregationTest.PEER_IP).requests(20_000).maxAwaiting(32)
            .replyTimeoutNanos(50_000_000).clock(SystemNanoClock.INSTANCE).configStatus(() -> net.state().status())
            .seed(seed).build();

        final AgentThreads threads = AgentThreads.start(net.agents(), 2, AgentThreads.backoff());
        final AgentRunner guestRunner = new AgentRunner(new SleepingIdleStrategy(20_000), Throwable::printStackTrace,
            null, guest);
        AgentRunner.startOnThread(guestRunner);
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int faults = 0;
            while (!guest.isFinished() && System.nanoTime() < deadline)
            {
                Thread.sleep(10 + random.nextInt(40));
                if (faults < 3)
                {
                    final SimNic nic = nics[faults % nics.length];
                    nic.inject(CardFault.FAIL_STOP, 0);
                    Thread.sleep(30 + random.nextInt(50));
                    nic.heal();
                    faults++;
                }
            }
            assertNull(threads.failure(), "no agent failed");
            assertTrue(guest.isFinished(), "the workload finished");
            Thread.sleep(100);
            assertEquals(0, guest.strays(), "stray or duplicate virtio completions");
            assertEquals(guest.txPosted(), guest.txCompleted(), "every tx buffer completed exactly once");
            assertEquals(0, guest.corruptReplies(), "corrupt replies");
            assertEquals(0, guest.rxErrors(), "rx buffers with a bad header or length");
            assertTrue(guest.repliesOk() > guest.requestsSent() / 2, "most requests were answered");
            System.out.println("sent=" + guest.requestsSent() + " ok=" + guest.repliesOk() + " lost=" +
                guest.lostReplies() + " duplicate=" + guest.duplicateReplies());
        }
        finally
        {
            guestRunner.close();
            threads.close();
        }
    }

    private static DeviceQueue queue(final GuestMemory memory, final RingLayout layout)
    {
        return new SplitQueue(memory, layout.queueSize(), layout.descGpa(), layout.availGpa(), layout.usedGpa(),
            true, true);
    }
}
