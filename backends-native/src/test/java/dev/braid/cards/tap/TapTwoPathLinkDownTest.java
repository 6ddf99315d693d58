package dev.braid.cards.tap;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.net.NetAggregation;
import dev.braid.aggregator.net.NetDevice;
import dev.braid.aggregator.net.VirtioNetDevice;
import dev.braid.ha.Aggregation;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.testkit.RealPeers;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.testkit.TapNetwork;
import dev.braid.testkit.UdpEcho;
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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two TAP cards on one bridge aggregated into one virtio-net device, driven by the testkit's
 * verifying guest ({@link NetGuestWorkload}: ICMP echo and UDP to port 7) against the real Linux
 * stack of a namespace, which answers the pings itself and the UDP through a python3 echo service.
 * tapA's vnet header is 10 bytes, tapB's 12: the guest's replies are checked over both.
 * Mid-traffic {@code ip link set tapA down}: the traffic goes on over tapB, no reply is corrupt,
 * every tx buffer completes exactly once. Replies may be lost around the failover or arrive twice
 * (the bridge floods until it relearns the guest's MAC), which an L2 network allows.
 */
@ExtendWith(SeedExtension.class)
class TapTwoPathLinkDownTest
{
    private static final long DEVICE_MAC = 0x02B7A1000020L;
    private static final int REQUESTS = 6_000;

    @Test
    void trafficContinuesOnTheOtherTapWhenOneIsSetDown(final Seed seeded) throws Exception
    {
        TapNetwork.requirePeers();
        RealPeers.requireExecutable("python3");
        final long seed = seeded.value();
        try (TapNetwork network = TapNetwork.create(2))
        {
            network.staticNeighbour(network.guestIp(), DEVICE_MAC);
            network.startInNamespace(UdpEcho.command().toArray(new String[0]));
            UdpEcho.awaitListening(network.namespace());

            final TapNetCard[] cards = new TapNetCard[2];
            for (int i = 0; i < cards.length; i++)
            {
                cards[i] = new TapNetCard(new TapCardContext().spec("tap:" + network.tap(i)).name("tap" + (char)('A' + i))
                    .linkCheckInterval(5, TimeUnit.MILLISECONDS).vnetHeaderLength(i == 0 ? 10 : 12));
                network.awaitForwarding(network.tap(i));
            }
            final WatchedNetCard[] watched = new WatchedNetCard[cards.length];
            for (int i = 0; i < cards.length; i++)
            {
                watched[i] = new WatchedNetCard(cards[i], DEVICE_MAC, network.guestIp(), network.namespaceMac(), network.namespaceIp());
            }
            final GuestMemory memory = GuestMemory.allocate(16 << 20);
            final RingLayout rxLayout = RingLayout.split(0, 64, 4);
            final RingLayout txLayout = RingLayout.split(RingLayout.alignUp(rxLayout.endGpa(), 4096), 64, 4);
            final RingLayout ctrlLayout = RingLayout.split(RingLayout.alignUp(txLayout.endGpa(), 4096), 8, 4);
            final long area = RingLayout.alignUp(ctrlLayout.endGpa(), 4096);
            final NetDevice net = VirtioNetDevice.aggregate(new VirtioNetDevice.Context().memory(memory).cards(List.of(watched))
                .mac(DEVICE_MAC).seed(seed).aggregation(Aggregation.activeActive(SelectorKind.FLOW_HASH))
                .health(new HealthConfig().completionTimeoutNanos(TimeUnit.SECONDS.toNanos(1))
                    .minDownNanos(TimeUnit.MILLISECONDS.toNanos(50)).probeIntervalNanos(TimeUnit.MILLISECONDS.toNanos(20))),
                new DeviceQueue[]{ queue(memory, rxLayout) }, new DeviceQueue[]{ queue(memory, txLayout) },
                queue(memory, ctrlLayout), NetAggregation.defaultFeatures());
            final NetGuestWorkload guest = NetGuestWorkload.builder().queues(new SplitDriverQueue(memory, rxLayout, true),
                new SplitDriverQueue(memory, txLayout, true), new SplitDriverQueue(memory, ctrlLayout, true)).memory(memory)
                .areaGpa(area).guest(DEVICE_MAC, network.guestIp()).peer(network.namespaceMac(), network.namespaceIp())
                .requests(REQUESTS).maxAwaiting(32).replyTimeoutNanos(TimeUnit.MILLISECONDS.toNanos(300))
                .clock(SystemNanoClock.INSTANCE).configStatus(() -> net.state().status()).seed(seed).build();

            final AgentThreads threads = AgentThreads.start(net.agents(), 2, AgentThreads.backoff());
            final AgentRunner guestRunner = new AgentRunner(new SleepingIdleStrategy(20_000), Throwable::printStackTrace,
                null, guest);
            AgentRunner.startOnThread(guestRunner);
            try
            {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (guest.requestsSent() < REQUESTS / 3 && System.nanoTime() < deadline)
                {
                    Thread.sleep(1);
                }
                final long sentAtDown = guest.requestsSent();
                final long okAtDown = guest.repliesOk();
                final long tapBTxAtDown = cards[1].txFrames();
                network.ip("link", "set", network.tap(0), "down");
                while (!guest.isFinished() && System.nanoTime() < deadline)
                {
                    Thread.sleep(10);
                }
                assertNull(threads.failure(), "no agent failed");
                assertTrue(guest.isFinished(), "the workload finished: sent " + guest.requestsSent());
                Thread.sleep(100);
                final String summary = "sent=" + guest.requestsSent() + " ok=" + guest.repliesOk() + " lost=" +
                    guest.lostReplies() + " duplicate=" + guest.duplicateReplies() + " other=" + guest.otherFrames() +
                    " atDown: sent=" + sentAtDown + " ok=" + okAtDown + " | " + cards[0] + " tx=" + cards[0].txFrames() +
                    " rx=" + cards[0].rxFrames() + " txErrors=" + cards[0].txErrors() + " | " + cards[1] + " tx=" +
                    cards[1].txFrames() + " rx=" + cards[1].rxFrames();
                System.out.println(summary);
                for (final WatchedNetCard w : watched)
                {
                    w.malformed.forEach(System.out::println);
                }
                assertEquals(0, guest.strays(), "stray or duplicate virtio completions: " + summary);
                assertEquals(guest.txPosted(), guest.txCompleted(), "every tx buffer completed exactly once: " + summary);
                assertEquals(0, guest.corruptReplies(), "corrupt replies: " + summary);
                assertEquals(0, guest.rxErrors(), "rx buffers with a bad header or length: " + summary);
                assertFalse(cards[0].isLinkUp(), "tapA is down");
                assertTrue(cards[1].isLinkUp(), "tapB stayed up");
                assertTrue(okAtDown > sentAtDown / 2, "both paths answered before the fault: " + summary);
                assertTrue(guest.repliesOk() - okAtDown > (REQUESTS - sentAtDown) / 2,
                    "most requests after the fault were answered, over tapB: " + summary);
                assertTrue(cards[1].txFrames() - tapBTxAtDown > (REQUESTS - sentAtDown) / 2, "tapB carried them: " + summary);
            }
            finally
            {
                guestRunner.close();
                threads.close();
                for (final TapNetCard card : cards)
                {
                    card.close();
                }
            }
        }
    }

    private static DeviceQueue queue(final GuestMemory memory, final RingLayout layout)
    {
        return new SplitQueue(memory, layout.queueSize(), layout.descGpa(), layout.availGpa(), layout.usedGpa(),
            true, true);
    }
}
