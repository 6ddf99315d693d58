package dev.braid.aggregator.net;

import dev.braid.ha.FailoverLog;
import dev.braid.ha.HealthState;
import dev.braid.ha.TransitionReason;
import dev.braid.sim.CardFault;
import dev.braid.sim.VirtualClock;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The net probe goes through the NIC's tx path: a NIC whose link is up but whose data path hangs
 * must fail its probe, and a device must keep such a NIC down rather than bring it UP to time out
 * again.
 */
class NetProbeTest
{
    static final long PEER_MAC = 0x525400BB0001L;

    private final VirtualClock clock = new VirtualClock();
    private final PeerHost peer = new PeerHost(PEER_MAC, FrameBuilder.ipv4(10, 0, 0, 1));
    private final L2Segment segment = new L2Segment(peer);
    private final SimNic nic = new SimNic("nic0", FrameBuilder.macBytes(0x525400CC0000L), segment, clock, 1, 8, 16, 20_000);
    private final SimNic other = new SimNic("nic1", FrameBuilder.macBytes(0x525400CC0001L), segment, clock, 1, 8, 16, 20_000);
    private final List<Integer> statuses = new ArrayList<>();
    private final CompletionSink sink = (token, status, length) -> statuses.add(status);

    private void runFor(final long nanos)
    {
        final long end = clock.nanoTime() + nanos;
        while (clock.nanoTime() < end)
        {
            clock.advanceBy(10_000);
            nic.poll(0);
        }
    }

    @Test
    void aHealthyNicSendsTheProbeFrameAndPassesWithoutDisturbingTheWire()
    {
        final NetProbeHandler probes = new NetProbeHandler(4);
        assertTrue(probes.submit(nic, 0, 2, 42, sink));
        assertEquals(List.of(), statuses, "not before the card sent it");
        runFor(1_000_000);
        assertEquals(List.of(CardStatus.OK), statuses);
        assertEquals(1, nic.txFrames(), "the probe went through the tx path");
        assertEquals(1, segment.notForPeer(), "addressed to no one: not the peer");
        assertEquals(0, other.rxFrames() + other.rxPending(0), "and no other port received it");
        assertEquals(nic.port(), segment.portOf(NetProbeHandler.probeMac(2)), "learned on the probing port only");
        assertEquals(-1, segment.portOf(0x525400AA0001L), "never from the device MAC");
    }

    @Test
    void aHungNicWithItsLinkUpFailsItsProbe()
    {
        final NetProbeHandler probes = new NetProbeHandler(4);
        nic.inject(CardFault.HANG, 0);
        assertTrue(nic.isLinkUp(), "a hung NIC still reports its link up");
        probes.submit(nic, 0, 0, 42, sink);
        runFor(100_000_000);
        assertFalse(statuses.contains(CardStatus.OK), "a hung NIC must not pass its probe: " + statuses);
    }

    @Test
    void aNicWithItsLinkDownFailsAtOnce()
    {
        final NetProbeHandler probes = new NetProbeHandler(4);
        nic.inject(CardFault.LINK_DOWN, 0);
        assertTrue(probes.submit(nic, 0, 0, 42, sink));
        assertEquals(List.of(CardStatus.IO_ERROR), statuses);
    }

    @Test
    void aDeviceKeepsAHungNicDownInsteadOfFlapping()
    {
        final NetAggregationTest.Rig rig = new NetAggregationTest.Rig(51, 2, true, 1, 4_000);
        assertTrue(rig.run(CardFault.HANG), "workload finished on the survivor");
        rig.scheduler.runFor(500_000_000L);
        rig.assertClean();
        assertEquals(CardFault.HANG, rig.nics[0].fault());
        int downs = 0;
        int ups = 0;
        final FailoverLog log = rig.net.device().failoverLog();
        final FailoverLog.Entry e = new FailoverLog.Entry();
        for (long s = Math.max(0, log.appended() - log.capacity()); s < log.appended(); s++)
        {
            if (log.read(s, e) && e.card() == 0)
            {
                downs += e.to() == HealthState.DOWN && e.reason() == TransitionReason.TIMEOUT ? 1 : 0;
                ups += e.to() == HealthState.UP && e.from() != HealthState.UP ? 1 : 0;
            }
        }
        assertEquals(1, downs, "the hung NIC timed out once");
        assertEquals(0, ups, "and its probes, through the hung tx path, never brought it back");
        assertNotEquals(HealthState.UP, rig.net.device().health(0));
    }
}
