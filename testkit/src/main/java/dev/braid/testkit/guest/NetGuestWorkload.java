package dev.braid.testkit.guest;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.UsedConsumer;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import java.util.SplittableRandom;
import java.util.function.IntSupplier;

/**
 * A guest that drives one virtio-net queue pair (and optionally the control queue) through the
 * driver model and checks every answer from a peer host that echoes ICMP and UDP.
 *
 * <p>It keeps every rx buffer posted, sends ICMP echo requests and UDP datagrams (several UDP
 * flows, so a flow-hashing device spreads them over cards), each carrying a unique request id and
 * a payload derived from it, and matches replies: payload intact, exactly one reply per request.
 * A network may lose frames (during a failover, before the switch relearns), so a reply that does
 * not come within the timeout is counted as lost, apart from duplicates and corruption, which must
 * never happen. Every tx buffer must complete exactly once. When the device shows
 * VIRTIO_NET_S_ANNOUNCE it does what Linux does: sends a gratuitous ARP and acks on the control queue.
 *
 * <p>Queue-local indices for the kicker: rx 0, tx 1, control 2.
 */
public final class NetGuestWorkload implements Agent
{
    public static final int SLOT_BYTES = 1536;
    private static final int HDR = 12;
    private static final int MAX_FRAME = 1514;
    private static final int MIN_PAYLOAD = 12;
    private static final int MAX_PAYLOAD = 1000;
    private static final int WINDOW = 1 << 12;
    private static final byte EMPTY = 0;
    private static final byte AWAITING = 1;
    private static final byte ANSWERED = 2;
    private static final byte LOST = 3;
    private static final int UDP_FLOWS = 8;
    private static final int S_ANNOUNCE = 2;

    /** Called when the guest has published new chains and the device wants a kick. */
    @FunctionalInterface
    public interface Kicker
    {
        void kick(int queueIndex);
    }

    private final DriverQueue rx;
    private final DriverQueue tx;
    private final DriverQueue control;
    private final GuestMemory memory;
    private final long myMac;
    private final int myIp;
    private final long peerMac;
    private final int peerIp;
    private final long requestLimit;
    private final int maxAwaiting;
    private final long replyTimeoutNanos;
    private final NanoClock clock;
    private final IntSupplier configStatus;
    private final SplittableRandom random;
    private final Kicker kicker;

    private final long rxArea;
    private final long txArea;
    private final long controlArea;
    private final boolean[] rxPosted;
    private final boolean[] rxSlotBusy;
    private final long[] rxGpaOfId;
    private final boolean[] txOutstanding;
    private final int[] txSlotOfId;
    private final boolean[] txSlotFree;
    private final long[] reqId = new long[WINDOW];
    private final byte[] reqState = new byte[WINDOW];
    private final int[] reqLength = new int[WINDOW];
    private final long[] reqSentNanos = new long[WINDOW];
    private final byte[] frame = new byte[SLOT_BYTES];
    private final byte[] payload = new byte[MAX_PAYLOAD];
    private final BufferChain chain = new BufferChain(4);
    private final UsedConsumer onRx = this::onRxUsed;
    private final UsedConsumer onTx = this::onTxUsed;
    private final UsedConsumer onControl = this::onControlUsed;

    private long nextRequest;
    private long oldestRequest;
    private int awaiting;
    private int txInFlight;
    private boolean ackInFlight;
    private int controlId = -1;

    private long txPosted;
    private long txCompleted;
    private long txStrays;
    private long rxFrames;
    private long rxStrays;
    private long rxErrors;
    private long repliesOk;
    private long duplicateReplies;
    private long corruptReplies;
    private long lostReplies;
    private long lateReplies;
    private long otherFrames;
    private long announcesSent;
    private long announceAcks;
    private long controlErrors;

    public static Builder builder()
    {
        return new Builder();
    }

    /**
     * The net guest's settings. Required: rx, tx, memory, both addresses, the request count, the
     * clock. Defaults: no control queue (then ANNOUNCE is not acked), area at GPA 0, 32 awaited
     * replies, 2 ms reply timeout, no config status, seed 0, no kick.
     */
    public static final class Builder
    {
        private DriverQueue rx;
        private DriverQueue tx;
        private DriverQueue control;
        private GuestMemory memory;
        private long areaGpa;
        private long myMac = -1;
        private int myIp;
        private long peerMac = -1;
        private int peerIp;
        private long requests = -1;
        private int maxAwaiting = 32;
        private long replyTimeoutNanos = 2_000_000;
        private NanoClock clock;
        private IntSupplier configStatus;
        private long seed;
        private Kicker kicker = q -> {};

        private Builder()
        {
        }

        /** The receive, transmit and (nullable) control queues. */
        public Builder queues(final DriverQueue rx, final DriverQueue tx, final DriverQueue control)
        {
            this.rx = rx;
            this.tx = tx;
            this.control = control;
            return this;
        }

        public Builder memory(final GuestMemory memory)
        {
            this.memory = memory;
            return this;
        }

        /** Guest memory for buffers: {@link #areaBytes(int, int)} bytes. */
        public Builder areaGpa(final long areaGpa)
        {
            this.areaGpa = areaGpa;
            return this;
        }

        /** The guest's own MAC and IPv4 address. */
        public Builder guest(final long mac, final int ip)
        {
            this.myMac = mac;
            this.myIp = ip;
            return this;
        }

        /** The peer the guest pings and echoes to. */
        public Builder peer(final long mac, final int ip)
        {
            this.peerMac = mac;
            this.peerIp = ip;
            return this;
        }

        /** Requests to send; 0 for no limit. */
        public Builder requests(final long requests)
        {
            this.requests = requests;
            return this;
        }

        /** Requests whose reply is still awaited, at most. */
        public Builder maxAwaiting(final int maxAwaiting)
        {
            this.maxAwaiting = maxAwaiting;
            return this;
        }

        public Builder replyTimeoutNanos(final long replyTimeoutNanos)
        {
            this.replyTimeoutNanos = replyTimeoutNanos;
            return this;
        }

        public Builder clock(final NanoClock clock)
        {
            this.clock = clock;
            return this;
        }

        /** Reads the device's config status field (VIRTIO_NET_S_*); null for none. */
        public Builder configStatus(final IntSupplier configStatus)
        {
            this.configStatus = configStatus;
            return this;
        }

        public Builder seed(final long seed)
        {
            this.seed = seed;
            return this;
        }

        public Builder kicker(final Kicker kicker)
        {
            this.kicker = kicker;
            return this;
        }

        /** Throws with a one-line message naming the first bad value. */
        public NetGuestWorkload build()
        {
            SlottedWorkloadBuilder.require(rx != null && tx != null, "rx and tx queues must be set");
            SlottedWorkloadBuilder.require(memory != null, "memory must be set");
            SlottedWorkloadBuilder.require(clock != null, "clock must be set");
            SlottedWorkloadBuilder.require(kicker != null, "kicker must not be null");
            SlottedWorkloadBuilder.require(myMac >= 0, "guest MAC and IP must be set");
            SlottedWorkloadBuilder.require(peerMac >= 0, "peer MAC and IP must be set");
            SlottedWorkloadBuilder.require(areaGpa >= 0, "areaGpa must be >= 0: " + areaGpa);
            SlottedWorkloadBuilder.require(requests >= 0, "requests must be set, >= 0 (0: no limit): " + requests);
            SlottedWorkloadBuilder.require(maxAwaiting > 0, "maxAwaiting must be > 0: " + maxAwaiting);
            SlottedWorkloadBuilder.require(replyTimeoutNanos > 0, "replyTimeoutNanos must be > 0: " + replyTimeoutNanos);
            return new NetGuestWorkload(this);
        }
    }

    private NetGuestWorkload(final Builder b)
    {
        this.rx = b.rx;
        this.tx = b.tx;
        this.control = b.control;
        this.memory = b.memory;
        this.myMac = b.myMac;
        this.myIp = b.myIp;
        this.peerMac = b.peerMac;
        this.peerIp = b.peerIp;
        this.requestLimit = b.requests;
        this.maxAwaiting = Math.min(b.maxAwaiting, WINDOW / 2);
        this.replyTimeoutNanos = b.replyTimeoutNanos;
        this.clock = b.clock;
        this.configStatus = b.configStatus;
        this.random = new SplittableRandom(b.seed);
        this.kicker = b.kicker;
        final long areaGpa = b.areaGpa;
        rxArea = areaGpa;
        txArea = rxArea + (long)rx.size() * SLOT_BYTES;
        controlArea = txArea + (long)tx.size() * SLOT_BYTES;
        rxPosted = new boolean[rx.size()];
        rxSlotBusy = new boolean[rx.size()];
        rxGpaOfId = new long[rx.size()];
        txOutstanding = new boolean[tx.size()];
        txSlotOfId = new int[tx.size()];
        txSlotFree = new boolean[tx.size()];
        java.util.Arrays.fill(txSlotFree, true);
    }

    /** Guest memory the workload needs for its buffers. */
    public static long areaBytes(final int rxSize, final int txSize)
    {
        return (long)(rxSize + txSize) * SLOT_BYTES + 64;
    }

    public String roleName()
    {
        return "braid-guest-net";
    }

    public int doWork()
    {
        final long now = clock.nanoTime();
        int work = rx.reap(onRx) + tx.reap(onTx);
        if (control != null)
        {
            work += control.reap(onControl);
        }
        work += expire(now);
        work += refillRx();
        work += announceIfAsked();
        boolean added = false;
        while (awaiting < maxAwaiting && (requestLimit <= 0 || nextRequest < requestLimit))
        {
            if (!sendRequest(now))
            {
                break;
            }
            added = true;
            work++;
        }
        if (added)
        {
            publishTx();
        }
        return work;
    }

    // ---------------------------------------------------------------- rx

    private int refillRx()
    {
        int posted = 0;
        for (int slot = 0; slot < rx.size(); slot++)
        {
            final long gpa = rxArea + (long)slot * SLOT_BYTES;
            if (isRxSlotPosted(gpa))
            {
                continue;
            }
            chain.clear();
            if (random.nextBoolean())
            {
                chain.writable(gpa, HDR + MAX_FRAME);
            }
            else
            {
                chain.writable(gpa, HDR).writable(gpa + HDR, MAX_FRAME);
            }
            memory.setMemory(gpa, HDR + MAX_FRAME, (byte)0x5A);
            final int id = rx.addChain(chain, false);
            if (id < 0)
            {
                break;
            }
            if (rxPosted[id])
            {
                throw new IllegalStateException("driver model returned an rx id still outstanding: " + id);
            }
            rxPosted[id] = true;
            rxGpaOfId[id] = gpa;
            rxSlotBusy[slot] = true;
            posted++;
        }
        if (posted > 0)
        {
            rx.publish();
            if (rx.needsKick())
            {
                kicker.kick(0);
            }
        }
        return posted;
    }

    private boolean isRxSlotPosted(final long gpa)
    {
        return rxSlotBusy[(int)((gpa - rxArea) / SLOT_BYTES)];
    }

    private void onRxUsed(final int id, final int length)
    {
        if (id < 0 || id >= rxPosted.length || !rxPosted[id])
        {
            rxStrays++;
            return;
        }
        rxPosted[id] = false;
        final long gpa = rxGpaOfId[id];
        rxSlotBusy[(int)((gpa - rxArea) / SLOT_BYTES)] = false;
        rxFrames++;
        if (length < HDR + GuestFrames.ETH_HLEN || length > HDR + MAX_FRAME ||
            memory.getByte(gpa) != 0 || memory.getByte(gpa + 1) != 0 || memory.getShort(gpa + 10) != 1)
        {
            rxErrors++;
            return;
        }
        final int frameLength = length - HDR;
        memory.getBytes(gpa + HDR, frame, 0, frameLength);
        final int kind = GuestFrames.parseReply(frame, frameLength, myMac, myIp, peerMac, peerIp);
        if (kind == GuestFrames.NOT_A_REPLY)
        {
            otherFrames++;
            return;
        }
        if (kind == GuestFrames.MALFORMED)
        {
            corruptReplies++;
            return;
        }
        onReply(kind);
    }

    private void onReply(final int kind)
    {
        final int at = GuestFrames.payloadOffset(kind);
        final int length = GuestFrames.payloadLength(frame, kind);
        if (length < MIN_PAYLOAD)
        {
            corruptReplies++;
            return;
        }
        final long id = getLong(frame, at);
        final int index = (int)(id & (WINDOW - 1));
        if (id < 0 || id >= nextRequest || !payloadIntact(frame, at, length, id))
        {
            corruptReplies++;
            return;
        }
        if (reqId[index] != id || reqState[index] == LOST)
        {
            lateReplies++;
            return;
        }
        if (reqState[index] == ANSWERED)
        {
            duplicateReplies++;
            return;
        }
        if (reqLength[index] != length)
        {
            corruptReplies++;
            return;
        }
        reqState[index] = ANSWERED;
        awaiting--;
        repliesOk++;
    }

    // ---------------------------------------------------------------- tx

    private boolean sendRequest(final long now)
    {
        final long id = nextRequest;
        final int index = (int)(id & (WINDOW - 1));
        if (reqState[index] == AWAITING)
        {
            return false;
        }
        final int length = MIN_PAYLOAD + random.nextInt(MAX_PAYLOAD - MIN_PAYLOAD + 1);
        fillPayload(payload, id, length);
        final int frameLength;
        if (random.nextInt(4) == 0)
        {
            frameLength = GuestFrames.icmpEcho(frame, myMac, peerMac, myIp, peerIp, 0x4242, (int)id & 0xFFFF,
                payload, length);
        }
        else
        {
            final int flow = random.nextInt(UDP_FLOWS);
            frameLength = GuestFrames.udp(frame, myMac, peerMac, myIp, peerIp, 40000 + flow, 7, payload, length);
        }
        if (!postTx(frameLength))
        {
            return false;
        }
        reqId[index] = id;
        reqState[index] = AWAITING;
        reqLength[index] = length;
        reqSentNanos[index] = now;
        awaiting++;
        nextRequest++;
        return true;
    }

    private boolean postTx(final int frameLength)
    {
        int slot = -1;
        for (int i = 0; i < txSlotFree.length; i++)
        {
            if (txSlotFree[i])
            {
                slot = i;
                break;
            }
        }
        if (slot < 0)
        {
            return false;
        }
        final long gpa = txArea + (long)slot * SLOT_BYTES;
        // virtio_net_hdr_v1: nothing asked of the device.
        memory.setMemory(gpa, HDR, (byte)0);
        memory.putBytes(gpa + HDR, frame, 0, frameLength);
        chain.clear();
        if (random.nextBoolean())
        {
            chain.readable(gpa, HDR + frameLength);
        }
        else
        {
            chain.readable(gpa, HDR).readable(gpa + HDR, frameLength);
        }
        final int id = tx.addChain(chain, false);
        if (id < 0)
        {
            return false;
        }
        if (txOutstanding[id])
        {
            throw new IllegalStateException("driver model returned a tx id still outstanding: " + id);
        }
        txOutstanding[id] = true;
        txSlotOfId[id] = slot;
        txSlotFree[slot] = false;
        txInFlight++;
        txPosted++;
        return true;
    }

    private void publishTx()
    {
        tx.publish();
        if (tx.needsKick())
        {
            kicker.kick(1);
        }
    }

    private void onTxUsed(final int id, final int length)
    {
        if (id < 0 || id >= txOutstanding.length || !txOutstanding[id])
        {
            txStrays++;
            return;
        }
        txOutstanding[id] = false;
        txSlotFree[txSlotOfId[id]] = true;
        txInFlight--;
        txCompleted++;
    }

    /** Declares requests whose reply did not come in time lost, oldest first. */
    private int expire(final long now)
    {
        int work = 0;
        while (oldestRequest < nextRequest)
        {
            final int index = (int)(oldestRequest & (WINDOW - 1));
            if (reqId[index] == oldestRequest && reqState[index] == AWAITING)
            {
                if (now - reqSentNanos[index] < replyTimeoutNanos)
                {
                    break;
                }
                reqState[index] = LOST;
                awaiting--;
                lostReplies++;
                work++;
            }
            oldestRequest++;
        }
        return work;
    }

    // ---------------------------------------------------------------- control

    private int announceIfAsked()
    {
        if (control == null || configStatus == null || ackInFlight ||
            (configStatus.getAsInt() & S_ANNOUNCE) == 0)
        {
            return 0;
        }
        final int frameLength = GuestFrames.gratuitousArp(frame, myMac, myIp);
        if (!postTx(frameLength))
        {
            return 0;
        }
        publishTx();
        announcesSent++;
        // class ANNOUNCE (3), command ACK (0), then the device-writable ack byte.
        memory.putByte(controlArea, (byte)3);
        memory.putByte(controlArea + 1, (byte)0);
        memory.putByte(controlArea + 2, (byte)0xFF);
        chain.clear();
        chain.readable(controlArea, 2).writable(controlArea + 2, 1);
        final int id = control.addChain(chain, false);
        if (id < 0)
        {
            return 1;
        }
        controlId = id;
        ackInFlight = true;
        control.publish();
        if (control.needsKick())
        {
            kicker.kick(2);
        }
        return 1;
    }

    private void onControlUsed(final int id, final int length)
    {
        if (!ackInFlight || id != controlId)
        {
            controlErrors++;
            return;
        }
        ackInFlight = false;
        if (length != 1 || memory.getByte(controlArea + 2) != 0)
        {
            controlErrors++;
            return;
        }
        announceAcks++;
    }

    // ---------------------------------------------------------------- payload

    private static void fillPayload(final byte[] p, final long id, final int length)
    {
        for (int i = 0; i < 8; i++)
        {
            p[i] = (byte)(id >>> (56 - 8 * i));
        }
        p[8] = (byte)(length >>> 24);
        p[9] = (byte)(length >>> 16);
        p[10] = (byte)(length >>> 8);
        p[11] = (byte)length;
        for (int i = MIN_PAYLOAD; i < length; i++)
        {
            p[i] = (byte)(id * 31 + i * 7);
        }
    }

    private static boolean payloadIntact(final byte[] f, final int at, final int length, final long id)
    {
        final int declared = (f[at + 8] & 0xFF) << 24 | (f[at + 9] & 0xFF) << 16 | (f[at + 10] & 0xFF) << 8 |
            f[at + 11] & 0xFF;
        if (declared != length)
        {
            return false;
        }
        for (int i = MIN_PAYLOAD; i < length; i++)
        {
            if (f[at + i] != (byte)(id * 31 + i * 7))
            {
                return false;
            }
        }
        return true;
    }

    private static long getLong(final byte[] b, final int at)
    {
        long v = 0;
        for (int i = 0; i < 8; i++)
        {
            v = v << 8 | (b[at + i] & 0xFF);
        }
        return v;
    }

    // ---------------------------------------------------------------- results

    /** All requests sent, every tx completed and every reply answered or declared lost. */
    public boolean isFinished()
    {
        return requestLimit > 0 && nextRequest >= requestLimit && txInFlight == 0 && awaiting == 0 && !ackInFlight;
    }

    public long requestsSent()
    {
        return nextRequest;
    }

    public long repliesOk()
    {
        return repliesOk;
    }

    /** Replies that did not come within the timeout (a network may lose frames, e.g. during failover). */
    public long lostReplies()
    {
        return lostReplies;
    }

    /** Replies that came after their request was declared lost. */
    public long lateReplies()
    {
        return lateReplies;
    }

    /** A second reply to one request: must not happen. */
    public long duplicateReplies()
    {
        return duplicateReplies;
    }

    /** Replies with a bad checksum, length or payload: must not happen. */
    public long corruptReplies()
    {
        return corruptReplies;
    }

    /** rx buffers returned with a bad length or header: must not happen. */
    public long rxErrors()
    {
        return rxErrors;
    }

    public long rxFrames()
    {
        return rxFrames;
    }

    /** Frames that were not replies to this guest (e.g. ARP). */
    public long otherFrames()
    {
        return otherFrames;
    }

    public long txPosted()
    {
        return txPosted;
    }

    public long txCompleted()
    {
        return txCompleted;
    }

    /** tx buffers posted and not completed yet: at the end of a quiesced run, these were lost. */
    public int txOutstanding()
    {
        return txInFlight;
    }

    /** Requests whose reply is still awaited. */
    public int awaiting()
    {
        return awaiting;
    }

    /** Completions for ids not outstanding (duplicates or strays) on any queue, and device faults. */
    public long strays()
    {
        return txStrays + rxStrays + tx.deviceFaults() + rx.deviceFaults() +
            (control == null ? 0 : control.deviceFaults());
    }

    public long announcesSent()
    {
        return announcesSent;
    }

    public long announceAcks()
    {
        return announceAcks;
    }

    /** Control commands answered with an error, or unexpected control completions. */
    public long controlErrors()
    {
        return controlErrors;
    }
}
