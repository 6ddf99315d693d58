package dev.braid.sim.net;

import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.sim.net.FrameDescriptor.*;

/**
 * A simulated Ethernet segment: one learning switch joining the ports of a device's {@link SimNic}s
 * to a {@link PeerHost}. Like a real switch it learns source MAC → port from every frame a port sends
 * and forwards the peer's unicast frames to the learned port, flooding unknown and broadcast
 * destinations. It does not age or flush entries on link down, so the peer's frames to a dead port
 * are lost until another port sends from that MAC (any frame, typically the gratuitous ARP of a
 * failover): exactly the gap that an announce closes.
 *
 * <p>Thread-safe: the segment is the shared wire, and frames from any card thread are serialised by
 * one lock (the simulator's stand-in for the physical medium).
 */
public final class L2Segment
{
    private static final int MAX_PORTS = 64;
    private static final int TABLE_SIZE = 64;

    private final PeerHost peer;
    private final SimNic[] ports = new SimNic[MAX_PORTS];
    private final long[] tableMacs = new long[TABLE_SIZE];
    private final int[] tablePorts = new int[TABLE_SIZE];
    private final byte[] reply = new byte[MAX_FRAME_LENGTH];
    private final byte[] scratch = new byte[MAX_FRAME_LENGTH];
    private final Object wire = new Object();
    private int portCount;
    private int tableSize;
    private int tableNext;

    private final AtomicLong framesFromGuests = new AtomicLong();
    private final AtomicLong framesToGuests = new AtomicLong();
    private final AtomicLong malformedDropped = new AtomicLong();
    private final AtomicLong lostToDeadPort = new AtomicLong();
    private final AtomicLong notForPeer = new AtomicLong();

    public L2Segment(final PeerHost peer)
    {
        this.peer = peer;
    }

    public PeerHost peer()
    {
        return peer;
    }

    /** Joins {@code nic} to the segment; returns its port number. */
    int attach(final SimNic nic)
    {
        synchronized (wire)
        {
            if (portCount == MAX_PORTS)
            {
                throw new IllegalStateException("segment full: " + MAX_PORTS + " ports");
            }
            ports[portCount] = nic;
            return portCount++;
        }
    }

    /** A frame sent by port {@code port}: learned, checked, given to the peer, and the reply forwarded. */
    void transmit(final int port, final byte[] frame, final int length)
    {
        synchronized (wire)
        {
            framesFromGuests.incrementAndGet();
            if (length < ETH_HEADER_LENGTH)
            {
                malformedDropped.incrementAndGet();
                return;
            }
            final long src = FrameParser.srcMac(frame);
            if (!FrameParser.isMulticast(src))
            {
                learn(src, port);
            }
            if (FrameParser.check(frame, length) != FrameParser.OK)
            {
                malformedDropped.incrementAndGet();
                return;
            }
            final long dst = FrameParser.dstMac(frame);
            if (dst != peer.mac() && dst != BROADCAST_MAC)
            {
                notForPeer.incrementAndGet();
                return;
            }
            final int replyLength = peer.handle(frame, length, reply);
            if (replyLength > 0)
            {
                forward(reply, replyLength);
            }
        }
    }

    /** Sends a gratuitous ARP for {@code mac}/{@code ip} from port {@code port}. */
    void announce(final int port, final long mac, final int ip)
    {
        synchronized (wire)
        {
            final int length = FrameBuilder.gratuitousArp(scratch, mac, ip);
            transmit(port, scratch, length);
        }
    }

    /**
     * Makes the peer send a UDP datagram to {@code dstIp} (peer-initiated traffic, which follows the
     * switch's table rather than a request's port). Returns false when the peer has no ARP entry for it.
     */
    public boolean peerSendUdp(
        final int dstIp, final int srcPort, final int dstPort, final byte[] payload, final int offset, final int length)
    {
        synchronized (wire)
        {
            final int frameLength = peer.buildUdp(scratch, dstIp, srcPort, dstPort, payload, offset, length);
            if (frameLength == 0)
            {
                return false;
            }
            forward(scratch, frameLength);
            return true;
        }
    }

    /** The port the switch has learned for {@code mac}, or -1. */
    public int portOf(final long mac)
    {
        synchronized (wire)
        {
            final int at = find(mac);
            return at < 0 ? -1 : tablePorts[at];
        }
    }

    public int portCount()
    {
        synchronized (wire)
        {
            return portCount;
        }
    }

    public long framesFromGuests()
    {
        return framesFromGuests.get();
    }

    /** Frames handed to a live port (each port counts once when flooded). */
    public long framesToGuests()
    {
        return framesToGuests.get();
    }

    /** Guest frames dropped by the wire for being malformed (bad lengths, checksums, truncation). */
    public long malformedDropped()
    {
        return malformedDropped.get();
    }

    /** Peer frames forwarded to a port whose card is down: lost, as on real L2. */
    public long lostToDeadPort()
    {
        return lostToDeadPort.get();
    }

    /** Valid guest frames addressed to neither the peer nor broadcast. */
    public long notForPeer()
    {
        return notForPeer.get();
    }

    private void forward(final byte[] frame, final int length)
    {
        final long dst = FrameParser.dstMac(frame);
        final int at = FrameParser.isMulticast(dst) ? -1 : find(dst);
        if (at >= 0)
        {
            deliver(tablePorts[at], frame, length);
            return;
        }
        for (int port = 0; port < portCount; port++)
        {
            deliver(port, frame, length);
        }
    }

    private void deliver(final int port, final byte[] frame, final int length)
    {
        if (ports[port].deliver(frame, length))
        {
            framesToGuests.incrementAndGet();
        }
        else
        {
            lostToDeadPort.incrementAndGet();
        }
    }

    private int find(final long mac)
    {
        for (int i = 0; i < tableSize; i++)
        {
            if (tableMacs[i] == mac)
            {
                return i;
            }
        }
        return -1;
    }

    private void learn(final long mac, final int port)
    {
        final int at = find(mac);
        if (at >= 0)
        {
            tablePorts[at] = port;
            return;
        }
        final int slot = tableSize < TABLE_SIZE ? tableSize++ : tableNext++ % TABLE_SIZE;
        tableMacs[slot] = mac;
        tablePorts[slot] = port;
    }
}
