package dev.braid.sim.net;

import dev.braid.sim.CardFault;
import dev.braid.sim.FencedSimCard;
import dev.braid.sim.InFlightSlots;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.CountedNetCard;
import dev.braid.virtio.card.NetCardCounters;
import dev.braid.virtio.card.NetFrame;
import org.agrona.concurrent.NanoClock;

import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.sim.net.FrameDescriptor.*;

/**
 * A simulated multi-queue NIC port on an {@link L2Segment}.
 *
 * <p>Tx: {@link #transmit} queues the frame; once its service latency has passed, {@link #poll}
 * reads it from guest memory (after {@code headerSkip}), puts it on the wire and completes with the
 * frame length. Completions on a queue come in submission order. Rx: frames the segment delivers are
 * filtered (own MAC, programmed MAC, broadcast, multicast with allmulti, everything with promisc),
 * spread over rx queues by flow hash and held in bounded per-queue rings of preallocated buffers;
 * {@link #receive} copies the oldest one straight into the guest's buffer. A full ring drops.
 *
 * <p>Fence: pending tx complete with {@link CardStatus#CANCELLED} without being read, and rx returns
 * nothing. Faults ({@link #inject}): FAIL_STOP rejects tx, completes nothing and is dead on the wire;
 * LINK_DOWN fails tx with IO_ERROR and loses rx; HANG accepts and never completes; SLOW multiplies
 * the latency; ERROR_BURST fails tx with IO_ERROR; ZOMBIE stops completing, and once fenced delivers
 * its old completions late as OK without reading memory.
 *
 * <p>Threading: per the card contract each queue has one driving thread; frames from the wire arrive
 * under the segment's lock, so each rx ring has one producer at a time and one consumer.
 */
public final class SimNic extends FencedSimCard implements CountedNetCard
{
    private final long ownMac;
    private final L2Segment segment;
    private final int port;
    private final NanoClock clock;
    private final long serviceLatencyNanos;
    private final TxQueue[] txQueues;
    private final RxRing[] rxRings;
    private volatile long programmedMac = -1;
    private volatile boolean promiscuous;
    private volatile boolean allMulticast;

    private final NetCardCounters counters = new NetCardCounters();
    private final AtomicLong rxFiltered = new AtomicLong();

    /**
     * @param mac           the port's own (burned-in) address, 6 bytes.
     * @param rxRingSize    frames each rx queue holds before it drops.
     */
    public SimNic(
        final String name,
        final byte[] mac,
        final L2Segment segment,
        final NanoClock clock,
        final int queueCount,
        final int queueDepth,
        final int rxRingSize,
        final long serviceLatencyNanos)
    {
        super(name, clock, checkedSlots(queueCount, queueDepth, rxRingSize), queueDepth);
        final long value = FrameBuilder.macValue(mac);
        if (value < 0)
        {
            throw new IllegalArgumentException("a MAC address has 6 bytes");
        }
        this.ownMac = value;
        this.segment = segment;
        this.clock = clock;
        this.serviceLatencyNanos = serviceLatencyNanos;
        this.txQueues = new TxQueue[queueCount];
        this.rxRings = new RxRing[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            txQueues[i] = new TxQueue(slots(i), queueDepth);
            rxRings[i] = new RxRing(rxRingSize);
        }
        this.port = segment.attach(this);
    }

    private static InFlightSlots[] checkedSlots(final int queueCount, final int queueDepth, final int rxRingSize)
    {
        if (queueCount < 1 || queueDepth < 1 || rxRingSize < 1)
        {
            throw new IllegalArgumentException("queue count, depth and rx ring size must be positive");
        }
        return newSlots(queueCount, queueDepth);
    }

    /** This card's port on the segment. */
    public int port()
    {
        return port;
    }

    public long macAddress()
    {
        return ownMac;
    }

    public boolean transmit(final int queue, final NetFrame frame, final long token, final CompletionSink sink)
    {
        if (queue < 0 || queue >= txQueues.length || fence.isFenced() || !fault.accepts())
        {
            return false;
        }
        final TxQueue q = txQueues[queue];
        if (q.tail - q.head == queueDepth)
        {
            return false;
        }
        final int slot = (int)(q.tail % queueDepth);
        q.frames[slot] = frame;
        q.slots.arm(slot, token, sink, clock.nanoTime() + fault.latency(serviceLatencyNanos));
        q.tail++;
        fence.cancelIfFenced(q.slots, slot);
        return true;
    }

    public int poll(final int queue)
    {
        if (queue < 0 || queue >= txQueues.length)
        {
            return 0;
        }
        final CardFault current = fault.fault();
        if (!current.progresses())
        {
            return 0;
        }
        final TxQueue q = txQueues[queue];
        final InFlightSlots slots = q.slots;
        final long now = clock.nanoTime();
        int work = 0;
        while (q.head != q.tail)
        {
            final int slot = (int)(q.head % queueDepth);
            final int state = slots.state(slot);
            final boolean delivered;
            if (state == InFlightSlots.PENDING)
            {
                if (current == CardFault.ZOMBIE || now - slots.readyAt(slot) < 0 || !slots.beginExecute(slot))
                {
                    if (slots.state(slot) == InFlightSlots.PENDING)
                    {
                        break;
                    }
                    continue;
                }
                send(q, slot);
                delivered = slots.deliver(slot, slots.status(slot), slots.length(slot));
            }
            else if (state == InFlightSlots.DONE)
            {
                delivered = slots.deliver(slot, slots.status(slot), slots.length(slot));
            }
            else if (state == InFlightSlots.CANCELLED)
            {
                delivered = slots.deliver(slot, CardStatus.CANCELLED, 0);
            }
            else if (state == InFlightSlots.ZOMBIE)
            {
                // A late OK for a frame it never read after the fence: only a stale token tells.
                delivered = fence.isZombieReleased(now) &&
                    slots.deliver(slot, CardStatus.OK, (int)Math.max(0, Math.min(Integer.MAX_VALUE, q.frames[slot].frameLength())));
            }
            else
            {
                delivered = false;
            }
            if (!delivered)
            {
                break;
            }
            q.frames[slot] = null;
            q.head++;
            work++;
        }
        return work;
    }

    public int receive(final int queue, final NetFrame buffer)
    {
        if (queue < 0 || queue >= rxRings.length || fence.isFenced() || !fault.progresses() || !fault.isLinkUp())
        {
            return 0;
        }
        final RxRing ring = rxRings[queue];
        final long head = ring.head.get();
        // Acquire on tail: the frame bytes the producer wrote before publishing it are visible.
        if (head == ring.tail.get())
        {
            return 0;
        }
        final int index = (int)(head % ring.lengths.length);
        final int length = ring.lengths[index];
        final long room = buffer.data().totalLength() - buffer.headerSkip();
        final int result;
        if (length > room)
        {
            counters.rxDrop();
            result = -1;
        }
        else
        {
            buffer.data().copyIn(buffer.headerSkip(), ring.frames[index], 0, length);
            counters.received(length);
            result = length;
        }
        // Release on head: the producer may reuse the buffer only after we are done reading it.
        ring.head.lazySet(head + 1);
        return result;
    }

    public void setMacAddress(final byte[] mac)
    {
        programmedMac = FrameBuilder.macValue(mac);
    }

    public void setRxMode(final boolean promiscuous, final boolean allMulticast)
    {
        this.promiscuous = promiscuous;
        this.allMulticast = allMulticast;
    }

    public boolean announce(final byte[] mac, final int ipv4Address)
    {
        final long value = FrameBuilder.macValue(mac);
        if (value < 0 || fence.isFenced() || !fault.isLinkUp())
        {
            return false;
        }
        segment.announce(port, value, ipv4Address);
        counters.sent(ARP_FRAME_LENGTH);
        return true;
    }

    /** Frames waiting in rx queue {@code queue}. */
    public int rxPending(final int queue)
    {
        return (int)(rxRings[queue].tail.get() - rxRings[queue].head.get());
    }

    public NetCardCounters counters()
    {
        return counters;
    }

    /** Rx frames the MAC filter / rx mode rejected. */
    public long rxFiltered()
    {
        return rxFiltered.get();
    }

    /**
     * Called by the segment, under its lock, for a frame on the wire towards this port. Returns false
     * when the port is dead (the frame is lost on the wire), true when the card took or dropped it.
     */
    boolean deliver(final byte[] frame, final int length)
    {
        if (!fault.isLinkUp())
        {
            return false;
        }
        if (fence.isFenced())
        {
            counters.rxDrop();
            return true;
        }
        final long dst = FrameParser.dstMac(frame);
        final boolean accept;
        if (dst == BROADCAST_MAC)
        {
            accept = true;
        }
        else if (FrameParser.isMulticast(dst))
        {
            accept = allMulticast || promiscuous;
        }
        else
        {
            accept = dst == ownMac || dst == programmedMac || promiscuous;
        }
        if (!accept)
        {
            rxFiltered.incrementAndGet();
            return true;
        }
        final RxRing ring = rxRings[FrameParser.flowHash(frame, length) % rxRings.length];
        final long tail = ring.tail.get();
        if (tail - ring.head.get() == ring.lengths.length || length > MAX_FRAME_LENGTH)
        {
            counters.rxDrop();
            return true;
        }
        final int index = (int)(tail % ring.lengths.length);
        System.arraycopy(frame, 0, ring.frames[index], 0, length);
        ring.lengths[index] = length;
        ring.tail.lazySet(tail + 1);
        return true;
    }

    private void send(final TxQueue q, final int slot)
    {
        final NetFrame frame = q.frames[slot];
        final long length = frame.frameLength();
        if (fault.takeError())
        {
            counters.txError();
            q.slots.finish(slot, CardStatus.IO_ERROR, 0);
            return;
        }
        if (length < ETH_HEADER_LENGTH || length > MAX_FRAME_LENGTH || frame.headerSkip() < 0)
        {
            counters.txDrop();
            q.slots.finish(slot, CardStatus.INVALID, 0);
            return;
        }
        final int copied = frame.data().copyOut(frame.headerSkip(), q.buffer, 0, (int)length);
        segment.transmit(port, q.buffer, copied);
        counters.sent(copied);
        q.slots.finish(slot, CardStatus.OK, copied);
    }

    /** Tx slots of one queue, used in ring order so completions keep submission order. */
    private static final class TxQueue
    {
        final InFlightSlots slots;
        final NetFrame[] frames;
        final byte[] buffer = new byte[MAX_FRAME_LENGTH];
        long head;
        long tail;

        TxQueue(final InFlightSlots slots, final int depth)
        {
            this.slots = slots;
            frames = new NetFrame[depth];
        }
    }

    /** One rx queue: a single-producer single-consumer ring of preallocated frame buffers. */
    private static final class RxRing
    {
        final byte[][] frames;
        final int[] lengths;
        final AtomicLong head = new AtomicLong();
        final AtomicLong tail = new AtomicLong();

        RxRing(final int size)
        {
            frames = new byte[size][MAX_FRAME_LENGTH];
            lengths = new int[size];
        }
    }
}
