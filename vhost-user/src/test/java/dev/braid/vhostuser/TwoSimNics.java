package dev.braid.vhostuser;

import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.virtio.card.NetCard;
import org.agrona.concurrent.SystemNanoClock;

import java.util.List;

/**
 * Two sim NICs on one sim segment whose peer host ({@link GuestNetTest#PEER_IP}) answers ARP and
 * ICMP, as the net tests serve them. One card queue each: every guest queue maps to card queue
 * (guest queue mod 1), and a sim NIC spreads received frames over its rx rings by flow hash, so
 * with more card queues some replies would land in rings that no guest rx queue pulls from.
 */
record TwoSimNics(PeerHost peer, L2Segment segment, SimNic a, SimNic b)
{
    /** NICs that take {@code latencyNanos} to send a frame. */
    static TwoSimNics on(final long latencyNanos)
    {
        final PeerHost peer = new PeerHost(GuestNetTest.PEER_MAC, GuestNetTest.PEER_IP);
        final L2Segment segment = new L2Segment(peer);
        return new TwoSimNics(peer, segment, nic("a", 0x525400AA0000L, segment, latencyNanos),
            nic("b", 0x525400BB0000L, segment, latencyNanos));
    }

    private static SimNic nic(final String name, final long mac, final L2Segment segment, final long latencyNanos)
    {
        return new SimNic(name, FrameBuilder.macBytes(mac), segment, SystemNanoClock.INSTANCE, 1, 64, 256, latencyNanos);
    }

    List<NetCard> cards()
    {
        return List.of(a, b);
    }
}
