package dev.braid.aggregator.net;

import dev.braid.testkit.guest.NetGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.CardFault;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.NetDescriptor;
import dev.braid.virtio.net.VirtioNet;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.braid.aggregator.DriverSteps.*;
import static org.junit.jupiter.api.Assertions.*;

class VirtioNetDeviceTest
{
    private static final long DEVICE_MAC = 0x525400AA0001L;
    private static final long PEER_MAC = 0x525400BB0001L;
    private static final int GUEST_IP = FrameBuilder.ipv4(10, 0, 0, 2);
    private static final int PEER_IP = FrameBuilder.ipv4(10, 0, 0, 1);
    private static final int SIZE = 64;

    private final VirtualClock clock = new VirtualClock();
    private final GuestMemory memory = GuestMemory.allocate(16 << 20);
    private final PeerHost peer = new PeerHost(PEER_MAC, PEER_IP);
    private final L2Segment segment = new L2Segment(peer);
    private final List<Agent> agents = new ArrayList<>();
    private final AtomicInteger configInterrupts = new AtomicInteger();
    private final AtomicInteger interrupts = new AtomicInteger();
    private final SimNic[] nics = new SimNic[2];
    private final RingLayout rx = RingLayout.split(0, SIZE, 4);
    private final RingLayout tx = RingLayout.split(RingLayout.alignUp(rx.endGpa(), 4096), SIZE, 4);
    private final RingLayout ctrl = RingLayout.split(RingLayout.alignUp(tx.endGpa(), 4096), 8, 4);

    private VirtioNetDevice newDevice(final int maxPairs)
    {
        final List<NetCard> cards = new ArrayList<>();
        for (int i = 0; i < nics.length; i++)
        {
            nics[i] = new SimNic("nic" + i, FrameBuilder.macBytes(0x525400CC0000L + i), segment, clock, 1, 64, 256, 20_000);
            cards.add(nics[i]);
        }
        return new VirtioNetDevice(new VirtioNetDevice.Context().memory(memory).cards(cards).mac(DEVICE_MAC)
            .maxQueuePairs(maxPairs).aggregation(Aggregation.activeActive(SelectorKind.FLOW_HASH))
            .health(new HealthConfig().completionTimeoutNanos(5_000_000).minDownNanos(2_000_000).probeIntervalNanos(1_000_000))
            .allDown(AllDownPolicy.failFast()).interrupts(q -> interrupts.incrementAndGet())
            .configInterrupt(configInterrupts::incrementAndGet).onActivate(agents::addAll).onDeactivate(agents::clear)
            .clock(clock));
    }

    @Test
    void activeActiveQueueAffineIsRefusedWithAClearMessage()
    {
        final List<NetCard> cards = List.of(
            new SimNic("a", FrameBuilder.macBytes(0x525400EE0001L), segment, clock, 1, 64, 256, 20_000),
            new SimNic("b", FrameBuilder.macBytes(0x525400EE0002L), segment, clock, 1, 64, 256, 20_000));
        final IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
            () -> new VirtioNetDevice(new VirtioNetDevice.Context().memory(memory).cards(cards).mac(DEVICE_MAC)
                .aggregation(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE))));
        assertEquals("virtio-net active-active needs request spray (e.g. flow-hash), not queue-affine: aa:queue-affine",
            error.getMessage());
    }

    @Test
    void offersTheNetFeaturesAndShowsTheConfigSpace()
    {
        final VirtioNetDevice device = newDevice(4);
        final VirtioDeviceCore core = device.core();
        assertEquals(VirtioNet.VIRTIO_ID_NET, core.deviceId());
        assertEquals(9, core.queueCount(), "rx0, tx0, ..., rx3, tx3, ctrl");
        for (final int f : new int[]{ VirtioNet.VIRTIO_NET_F_MAC, VirtioNet.VIRTIO_NET_F_STATUS,
            VirtioNet.VIRTIO_NET_F_CTRL_VQ, VirtioNet.VIRTIO_NET_F_CTRL_RX, VirtioNet.VIRTIO_NET_F_MQ,
            VirtioNet.VIRTIO_NET_F_GUEST_ANNOUNCE, VirtioNet.VIRTIO_NET_F_MTU, VirtioNet.VIRTIO_NET_F_MRG_RXBUF,
            VirtioFeatures.VERSION_1, VirtioFeatures.EVENT_IDX, VirtioFeatures.INDIRECT_DESC })
        {
            assertTrue(core.features().isOffered(f), "offered " + f);
        }
        assertFalse(core.features().isOffered(VirtioNet.VIRTIO_NET_F_CSUM));
        long mac = 0;
        for (int i = 0; i < 6; i++)
        {
            mac = mac << 8 | device.readConfig(NetDescriptor.CFG_MAC_OFFSET + i, 1);
        }
        assertEquals(DEVICE_MAC, mac);
        assertEquals(VirtioNet.VIRTIO_NET_S_LINK_UP, device.readConfig(NetDescriptor.CFG_STATUS_OFFSET, 2));
        assertEquals(4, device.readConfig(NetDescriptor.CFG_MAX_VIRTQUEUE_PAIRS_OFFSET, 2));
        assertEquals(1500, device.readConfig(NetDescriptor.CFG_MTU_OFFSET, 2));
        assertFalse(device.writeConfig(NetDescriptor.CFG_MTU_OFFSET, 2, 9000), "net config is read-only");
    }

    @Test
    void driverOkBuildsTheQueuesTrafficFlowsAndAFailoverIsAnnounced()
    {
        final VirtioNetDevice device = newDevice(1);
        negotiate(device, 0);
        program(device.core(), 0, rx);
        program(device.core(), 1, tx);
        program(device.core(), 2, ctrl);
        assertEquals(2, device.controlQueueIndex());
        driverOk(device);
        assertNotNull(device.device(), "DRIVER_OK activated the device");
        assertNotNull(device.net());
        assertFalse(agents.isEmpty());
        assertEquals(3, device.device().guestQueueCount());

        final DeterministicScheduler scheduler = new DeterministicScheduler(5, clock);
        agents.forEach(scheduler::addAgent);
        final NetGuestWorkload guest = NetGuestWorkload.builder().queues(new SplitDriverQueue(memory, rx, true),
            new SplitDriverQueue(memory, tx, true), new SplitDriverQueue(memory, ctrl, true)).memory(memory)
            .areaGpa(1 << 20).guest(DEVICE_MAC, GUEST_IP).peer(PEER_MAC, PEER_IP).requests(3_000).maxAwaiting(32)
            .replyTimeoutNanos(2_000_000).clock(clock)
            .configStatus(() -> (int)device.readConfig(NetDescriptor.CFG_STATUS_OFFSET, 2)).seed(5)
            .kicker(device::kick).build();
        scheduler.addAgent(guest);
        final TimerSource heartbeat = () -> clock.nanoTime() + 100_000;
        scheduler.addTimerSource(heartbeat);
        assertTrue(scheduler.runUntil(() -> guest.repliesOk() > 500, 10_000_000_000L, 5_000_000));
        final int generation = device.core().configGeneration();
        nics[0].inject(CardFault.FAIL_STOP, 0);
        assertTrue(scheduler.runUntil(guest::isFinished, 60_000_000_000L, 50_000_000), "workload finished");
        assertEquals(0, guest.strays());
        assertEquals(0, guest.corruptReplies());
        assertTrue(guest.repliesOk() > 2_500, "replies flowed across the failover: " + guest.repliesOk());
        assertTrue(interrupts.get() > 0, "the guest was interrupted");
        assertTrue(configInterrupts.get() >= 1, "the announce raised a config interrupt");
        assertTrue(device.core().configGeneration() > generation, "and moved the config generation");
        assertTrue(guest.announceAcks() >= 1, "the guest saw ANNOUNCE in the config status and acked");
        assertTrue(device.checkHealth());

        device.writeStatus(0);
        assertNull(device.device(), "reset tears the device down");
        assertNull(device.net());
        assertTrue(agents.isEmpty(), "the VMM was told to stop the agents");
        assertEquals(VirtioNet.VIRTIO_NET_S_LINK_UP, device.readConfig(NetDescriptor.CFG_STATUS_OFFSET, 2),
            "config space back to its initial state");
    }

    @Test
    void withoutMqTheControlQueueIsQueueTwo()
    {
        final VirtioNetDevice device = newDevice(2);
        negotiate(device, 1L << VirtioNet.VIRTIO_NET_F_MQ);
        program(device.core(), 0, rx);
        program(device.core(), 1, tx);
        program(device.core(), 2, ctrl);
        driverOk(device);
        assertNotNull(device.device());
        assertEquals(3, device.device().guestQueueCount(), "one pair and the control queue");
        assertEquals(2, device.net().controlQueueIndex());
    }

    @Test
    void ringOutsideGuestMemoryNeedsResetInsteadOfThrowing()
    {
        final VirtioNetDevice device = newDevice(1);
        negotiate(device, 0);
        program(device.core(), 0, rx);
        final VirtioDeviceCore core = device.core();
        programDescriptorsPastMemory(core, 1);
        program(core, 2, ctrl);
        driverOkNeedsReset(device, configInterrupts, agents);
    }

    @Test
    void aQueueLeftDisabledNeedsReset()
    {
        final VirtioNetDevice device = newDevice(1);
        negotiate(device, 0);
        program(device.core(), 0, rx);
        program(device.core(), 1, tx);
        driverOk(device);
        assertNull(device.device(), "the control queue was negotiated but never enabled");
        assertTrue(device.core().status().has(DeviceStatus.DEVICE_NEEDS_RESET));
    }
}
