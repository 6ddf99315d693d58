package dev.braid.cards.tap;

import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.CountedNetCard;
import dev.braid.virtio.card.NetCardCounters;
import dev.braid.virtio.card.NetFrame;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static dev.braid.cards.tap.TunLibc.*;

/**
 * A NIC port on a Linux TAP ({@code tap:IFNAME}) through {@code /dev/net/tun}: one non-blocking
 * {@code IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_MULTI_QUEUE} fd per queue pair. Frames move between the
 * TAP and the guest's buffers by {@code readv}/{@code writev} on the guest memory addresses, no copy.
 *
 * <p>No offload is offered (TUNSETOFFLOAD 0): every frame is whole and checksummed, so the vnet
 * header the TAP reads and writes is all zeros. The card sends its own zeroed header and reads the
 * TAP's into a scratch buffer; the guest's header bytes ({@code headerSkip}) are the device's.
 *
 * <p>Tx: {@link #transmit} writes the frame at once and queues the completion, which {@link #poll}
 * reports (so a full sink only delays it). Rx: {@link #receive} reads one frame, if one is waiting,
 * straight into the guest buffer. Every frame the TAP delivers is taken (the bridge already forwards
 * by MAC; no rx filter is programmed in this slice).
 *
 * <p>Link: a card worker's {@link #poll} checks the interface flags (SIOCGIFFLAGS) once per
 * {@link TapCardContext#linkCheckIntervalNanos()}: not UP, or gone, is link down; a
 * failing write is link down at once. A deleted TAP that reappears is re-attached (dup2 over the old
 * fds, so a worker inside a syscall is unaffected) and the link comes up again.
 *
 * <p>Fence: each queue's syscalls run inside a busy mark set before the fence flag is read; fence
 * sets the flag, then waits until no mark is set (a Dekker pair, both sides volatile). After it
 * returns no readv lands in guest memory and no writev reads it.
 *
 * <p>Threading: per the card contract one thread drives each queue. {@link #fence}, {@link #unfence},
 * {@link #announce}, {@link #close} and the link query may come from any thread.
 */
public final class TapNetCard implements CountedNetCard, AutoCloseable
{
    private static final String TUN_PATH = "/dev/net/tun";
    private static final int MIN_FRAME = 14;
    private static final int MAX_FRAME = 65_535;
    private static final int BUSY_STRIDE = 16;
    private static final int ARP_FRAME_LENGTH = 42;
    private static final int GONE = -1;
    private static final int DOWN = 0;
    private static final int UP = 1;

    private final String name;
    private final String ifname;
    private final int queueDepth;
    private final int headerLength;
    private final long linkCheckIntervalNanos;
    private final int[] fds;
    private final TapQueue[] queues;
    private final AtomicLongArray busy;
    private final int announceSlot;
    private final UnsafeBuffer control = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final int controlSocket;
    private final UnsafeBuffer announceBuffer;
    private final AtomicBoolean announcing = new AtomicBoolean();
    private final AtomicBoolean checking = new AtomicBoolean();
    private final AtomicBoolean linkUp = new AtomicBoolean();
    private volatile long nextCheckAt;
    private volatile boolean fenced;
    private volatile boolean closed;
    private volatile boolean detached;
    private volatile CardEventListener listener;
    private volatile byte[] programmedMac;
    private volatile boolean promiscuous;
    private volatile boolean allMulticast;

    private final NetCardCounters counters = new NetCardCounters();
    private final AtomicLong reattaches = new AtomicLong();

    /**
     * Opens the TAP (creating it when absent). Throws {@link IllegalStateException} with one line
     * naming the interface and the reason when it cannot.
     */
    public TapNetCard(final TapCardContext context)
    {
        context.conclude();
        name = context.name();
        ifname = context.ifname();
        queueDepth = context.queueDepth();
        headerLength = context.vnetHeaderLength();
        linkCheckIntervalNanos = context.linkCheckIntervalNanos();
        final int queueCount = context.queueCount();
        fds = new int[queueCount];
        queues = new TapQueue[queueCount];
        busy = new AtomicLongArray(BUSY_STRIDE * (queueCount + 2));
        announceSlot = queueCount;
        final byte[] nameBytes = ifname.getBytes(StandardCharsets.UTF_8);
        control.putBytes(0, nameBytes);
        final int socket = TunLibc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (socket < 0)
        {
            throw new IllegalStateException("tap card " + name + ": control socket: " + describe(errno()));
        }
        controlSocket = socket;
        int opened = 0;
        try
        {
            for (; opened < queueCount; opened++)
            {
                fds[opened] = attach();
                queues[opened] = new TapQueue(queueDepth, headerLength);
            }
        }
        catch (final RuntimeException ex)
        {
            for (int i = 0; i < opened; i++)
            {
                TunLibc.close(fds[i]);
            }
            TunLibc.close(controlSocket);
            throw ex;
        }
        announceBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2 * IOVEC_SIZE + 16 + 64, 64));
        linkUp.set(readLink() == UP);
        nextCheckAt = System.nanoTime() + linkCheckIntervalNanos;
    }

    public String name()
    {
        return name;
    }

    public String ifname()
    {
        return ifname;
    }

    public int queueCount()
    {
        return queues.length;
    }

    public int queueDepth()
    {
        return queueDepth;
    }

    /** The vnet header length the TAP was set to (TUNSETVNETHDRSZ). */
    public int vnetHeaderLength()
    {
        return headerLength;
    }

    public boolean transmit(final int queue, final NetFrame frame, final long token, final CompletionSink sink)
    {
        if (queue < 0 || queue >= queues.length || fenced || !linkUp.get())
        {
            return false;
        }
        final TapQueue q = queues[queue];
        if (q.tail - q.head == queueDepth)
        {
            return false;
        }
        final long length = frame.frameLength();
        final int segments = length < MIN_FRAME || length > MAX_FRAME || frame.headerSkip() < 0 ?
            -1 : fillIovec(q.txIov, q.txHeader, frame.data(), frame.headerSkip());
        if (segments < 0)
        {
            counters.txDrop();
            q.record(token, sink, CardStatus.INVALID, 0);
            return true;
        }
        if (!enter(queue))
        {
            return false;
        }
        final long written = TunLibc.writev(fds[queue], q.txIov.addressOffset(), segments);
        final int error = written < 0 ? errno() : 0;
        exit(queue);
        if (written < 0)
        {
            if (error == EAGAIN)
            {
                return false;
            }
            counters.txError();
            q.record(token, sink, CardStatus.IO_ERROR, 0);
            pathFailed(error);
            return true;
        }
        final int sent = (int)Math.max(0, written - headerLength);
        counters.sent(sent);
        q.record(token, sink, CardStatus.OK, sent);
        return true;
    }

    public int poll(final int queue)
    {
        if (queue < 0 || queue >= queues.length)
        {
            return 0;
        }
        int work = 0;
        if (System.nanoTime() - nextCheckAt >= 0)
        {
            work += checkLink();
        }
        final TapQueue q = queues[queue];
        while (q.head != q.tail)
        {
            final int slot = (int)(q.head % queueDepth);
            if (!q.sinks[slot].complete(q.tokens[slot], q.statuses[slot], q.lengths[slot]))
            {
                break;
            }
            q.sinks[slot] = null;
            q.head++;
            work++;
        }
        return work;
    }

    public int receive(final int queue, final NetFrame buffer)
    {
        if (queue < 0 || queue >= queues.length || fenced || !linkUp.get())
        {
            return 0;
        }
        final TapQueue q = queues[queue];
        final long room = buffer.data().totalLength() - buffer.headerSkip();
        final int segments = room < MIN_FRAME || buffer.headerSkip() < 0 ?
            -1 : fillIovec(q.rxIov, q.rxHeader, buffer.data(), buffer.headerSkip());
        if (segments < 0)
        {
            return 0;
        }
        // One byte past the guest buffer tells a frame that did not fit (the TAP cuts it short silently).
        q.rxIov.putLong(segments * IOVEC_SIZE, q.rxOverflow.addressOffset());
        q.rxIov.putLong(segments * IOVEC_SIZE + 8, 1);
        if (!enter(queue))
        {
            return 0;
        }
        final long read = TunLibc.readv(fds[queue], q.rxIov.addressOffset(), segments + 1);
        final int error = read < 0 ? errno() : 0;
        exit(queue);
        if (read < 0)
        {
            if (error != EAGAIN)
            {
                pathFailed(error);
            }
            return 0;
        }
        final long length = read - headerLength;
        if (length <= 0 || length > room)
        {
            counters.rxDrop();
            return -1;
        }
        counters.received(length);
        return (int)length;
    }

    public void setMacAddress(final byte[] mac)
    {
        programmedMac = mac.clone();
    }

    public void setRxMode(final boolean promiscuous, final boolean allMulticast)
    {
        this.promiscuous = promiscuous;
        this.allMulticast = allMulticast;
    }

    /** Sends a gratuitous ARP request for {@code ipv4Address} from {@code mac} on queue 0's fd. */
    public boolean announce(final byte[] mac, final int ipv4Address)
    {
        if (mac.length != 6 || fenced || closed || !linkUp.get() || !announcing.compareAndSet(false, true))
        {
            return false;
        }
        try
        {
            final UnsafeBuffer b = announceBuffer;
            final int header = 2 * IOVEC_SIZE;
            final int frame = header + 16;
            b.setMemory(header, 16 + ARP_FRAME_LENGTH, (byte)0);
            for (int i = 0; i < 6; i++)
            {
                b.putByte(frame + i, (byte)0xff);
                b.putByte(frame + 6 + i, mac[i]);
                b.putByte(frame + 22 + i, mac[i]);
            }
            b.putShort(frame + 12, (short)0x0806, ByteOrder.BIG_ENDIAN);
            b.putShort(frame + 14, (short)1, ByteOrder.BIG_ENDIAN);
            b.putShort(frame + 16, (short)0x0800, ByteOrder.BIG_ENDIAN);
            b.putByte(frame + 18, (byte)6);
            b.putByte(frame + 19, (byte)4);
            b.putShort(frame + 20, (short)1, ByteOrder.BIG_ENDIAN);
            b.putInt(frame + 28, ipv4Address, ByteOrder.BIG_ENDIAN);
            b.putInt(frame + 38, ipv4Address, ByteOrder.BIG_ENDIAN);
            b.putLong(0, b.addressOffset() + header);
            b.putLong(8, headerLength);
            b.putLong(IOVEC_SIZE, b.addressOffset() + frame);
            b.putLong(IOVEC_SIZE + 8, ARP_FRAME_LENGTH);
            if (!enter(announceSlot))
            {
                return false;
            }
            final long written = TunLibc.writev(fds[0], b.addressOffset(), 2);
            final int error = written < 0 ? errno() : 0;
            exit(announceSlot);
            if (written < 0)
            {
                counters.txError();
                if (error != EAGAIN)
                {
                    pathFailed(error);
                }
                return false;
            }
            counters.sent(ARP_FRAME_LENGTH);
            return true;
        }
        finally
        {
            announcing.set(false);
        }
    }

    public void fence()
    {
        fenced = true;
        for (int slot = 0; slot <= announceSlot + 1; slot++)
        {
            while (busy.get(slot * BUSY_STRIDE) != 0)
            {
                Thread.onSpinWait();
            }
        }
    }

    public void unfence()
    {
        if (!closed)
        {
            fenced = false;
        }
    }

    public boolean isFenced()
    {
        return fenced;
    }

    public boolean isLinkUp()
    {
        return linkUp.get();
    }

    public void setEventListener(final CardEventListener listener)
    {
        this.listener = listener;
    }

    /** Fences the card and closes its fds (a persistent TAP stays; one the card created goes). */
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        fence();
        // A link check in progress uses the control socket and may dup2 over the queue fds.
        while (!checking.compareAndSet(false, true))
        {
            Thread.onSpinWait();
        }
        for (final int fd : fds)
        {
            TunLibc.close(fd);
        }
        TunLibc.close(controlSocket);
    }

    /** Checks the link now (also done by {@link #poll} every link check interval); returns 1 when it changed. */
    public int checkLink()
    {
        if (closed || !checking.compareAndSet(false, true))
        {
            return 0;
        }
        try
        {
            nextCheckAt = System.nanoTime() + linkCheckIntervalNanos;
            int state = readLink();
            if (state != GONE && detached)
            {
                // A TAP of that name is back: its carrier comes on only once a queue attaches.
                state = reattach();
            }
            return setLink(state == UP) ? 1 : 0;
        }
        finally
        {
            checking.set(false);
        }
    }

    public byte[] programmedMac()
    {
        final byte[] mac = programmedMac;
        return null == mac ? null : mac.clone();
    }

    public boolean isPromiscuous()
    {
        return promiscuous;
    }

    public boolean isAllMulticast()
    {
        return allMulticast;
    }

    public NetCardCounters counters()
    {
        return counters;
    }

    /** Times the card re-attached to a TAP that was deleted and created again. */
    public long reattaches()
    {
        return reattaches.get();
    }

    public String toString()
    {
        return "TapNetCard{" + name + " tap:" + ifname + " queues=" + queues.length + " link=" + (linkUp.get() ? "up" : "down") + "}";
    }

    private boolean enter(final int slot)
    {
        // Dekker with fence(): mark busy, then read the flag; fence writes the flag, then reads marks.
        busy.set(slot * BUSY_STRIDE, 1);
        if (fenced)
        {
            busy.set(slot * BUSY_STRIDE, 0);
            return false;
        }
        return true;
    }

    private void exit(final int slot)
    {
        busy.set(slot * BUSY_STRIDE, 0);
    }

    /**
     * Fills {@code iov} with the card's header buffer, then the vector's bytes after {@code skip},
     * split at guest memory region edges. Returns the iovec count, or -1 when it does not fit.
     */
    private int fillIovec(final UnsafeBuffer iov, final UnsafeBuffer header, final IoVector data, final long skip)
    {
        final GuestMemory memory = data.memory();
        iov.putLong(0, header.addressOffset());
        iov.putLong(8, headerLength);
        int count = 1;
        long toSkip = skip;
        for (int i = 0; i < data.count(); i++)
        {
            long length = data.length(i) & 0xFFFF_FFFFL;
            long gpa = data.address(i);
            if (toSkip >= length)
            {
                toSkip -= length;
                continue;
            }
            gpa += toSkip;
            length -= toSkip;
            toSkip = 0;
            while (length > 0)
            {
                final int region = memory.regionIndex(gpa, 1);
                if (region < 0 || count == TapCardContext.MAX_SEGMENTS + 1)
                {
                    return -1;
                }
                final UnsafeBuffer buffer = memory.buffer(region);
                if (null != buffer.byteArray())
                {
                    return -1;
                }
                final int offset = memory.offset(region, gpa);
                final long chunk = Math.min(length, buffer.capacity() - offset);
                iov.putLong(count * IOVEC_SIZE, buffer.addressOffset() + offset);
                iov.putLong(count * IOVEC_SIZE + 8, chunk);
                count++;
                gpa += chunk;
                length -= chunk;
            }
        }
        return count;
    }

    private void pathFailed(final int error)
    {
        if (error == EBADFD || error == ENODEV)
        {
            detached = true;
        }
        final CardEventListener l = listener;
        if (linkUp.compareAndSet(true, false) && null != l)
        {
            l.onLinkChange(this, false);
        }
        if (null != l)
        {
            l.onCardError(this, error);
        }
    }

    private boolean setLink(final boolean up)
    {
        if (linkUp.compareAndSet(!up, up))
        {
            final CardEventListener l = listener;
            if (null != l)
            {
                l.onLinkChange(this, up);
            }
            return true;
        }
        return false;
    }

    /**
     * IFF_UP per SIOCGIFFLAGS is {@link #UP}; a missing interface {@link #GONE}. A TAP's carrier is its
     * attached queues, which are this card's; IFF_RUNNING lags it (linkwatch runs deferred), so it is not read.
     */
    private int readLink()
    {
        control.putShort(IFREQ_FLAGS_OFFSET, (short)0);
        if (TunLibc.ioctl(controlSocket, SIOCGIFFLAGS, control.addressOffset()) < 0)
        {
            if (errno() == ENODEV)
            {
                detached = true;
                return GONE;
            }
            return DOWN;
        }
        final short flags = control.getShort(IFREQ_FLAGS_OFFSET);
        return (flags & IFF_UP) != 0 ? UP : DOWN;
    }

    /** Re-attaches every queue to a TAP of the same name; {@link #DOWN} when it cannot (not a matching TAP). */
    private int reattach()
    {
        final int[] fresh = new int[fds.length];
        int opened = 0;
        try
        {
            for (; opened < fds.length; opened++)
            {
                fresh[opened] = attach();
            }
        }
        catch (final IllegalStateException ex)
        {
            for (int i = 0; i < opened; i++)
            {
                TunLibc.close(fresh[i]);
            }
            return DOWN;
        }
        for (int i = 0; i < fds.length; i++)
        {
            // Atomic replacement: a worker's syscall on the old file finishes on it, the next one uses the new.
            TunLibc.dup2(fresh[i], fds[i]);
            TunLibc.close(fresh[i]);
        }
        detached = false;
        reattaches.incrementAndGet();
        return readLink();
    }

    /** Opens one queue fd on the TAP: TUNSETIFF, TUNSETVNETHDRSZ, TUNSETOFFLOAD 0. */
    private int attach()
    {
        final int fd = TunLibc.open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
        {
            throw new IllegalStateException("tap card " + name + ": open " + TUN_PATH + ": " + describe(errno()));
        }
        final UnsafeBuffer ifreq = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
        ifreq.putBytes(0, ifname.getBytes(StandardCharsets.UTF_8));
        ifreq.putShort(IFREQ_FLAGS_OFFSET, (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE));
        String step = "TUNSETIFF";
        int result = TunLibc.ioctl(fd, TUNSETIFF, ifreq.addressOffset());
        if (result >= 0)
        {
            step = "TUNSETVNETHDRSZ " + headerLength;
            ifreq.putInt(IFREQ_SIZE, headerLength);
            result = TunLibc.ioctl(fd, TUNSETVNETHDRSZ, ifreq.addressOffset() + IFREQ_SIZE);
        }
        if (result >= 0)
        {
            step = "TUNSETOFFLOAD 0";
            result = TunLibc.ioctl(fd, TUNSETOFFLOAD, 0);
        }
        if (result < 0)
        {
            final int error = errno();
            TunLibc.close(fd);
            throw new IllegalStateException("tap card " + name + ": " + step + " " + ifname + ": " + describe(error) + hint(error));
        }
        return fd;
    }

    private static String hint(final int error)
    {
        switch (error)
        {
            case EINVAL:
                return "; an interface of that name exists but is not a multi_queue vnet_hdr TAP";
            case 1:
                return "; creating or attaching a TAP needs CAP_NET_ADMIN";
            case 16:
                return "; the TAP is held by another process without multi_queue";
            default:
                return "";
        }
    }

    /** One queue pair's preallocated iovec arrays, header buffers and tx completion ring. */
    private static final class TapQueue
    {
        final UnsafeBuffer txIov;
        final UnsafeBuffer rxIov;
        final UnsafeBuffer txHeader;
        final UnsafeBuffer rxHeader;
        final UnsafeBuffer rxOverflow;
        final long[] tokens;
        final CompletionSink[] sinks;
        final int[] statuses;
        final int[] lengths;
        final int depth;
        long head;
        long tail;

        TapQueue(final int depth, final int headerLength)
        {
            final int iovBytes = (TapCardContext.MAX_SEGMENTS + 2) * IOVEC_SIZE;
            txIov = new UnsafeBuffer(BufferUtil.allocateDirectAligned(iovBytes, 64));
            rxIov = new UnsafeBuffer(BufferUtil.allocateDirectAligned(iovBytes, 64));
            // Zeroed and never written: no offloads, so the tx header says "whole frame, checksummed".
            txHeader = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
            rxHeader = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
            rxOverflow = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
            this.depth = depth;
            tokens = new long[depth];
            sinks = new CompletionSink[depth];
            statuses = new int[depth];
            lengths = new int[depth];
        }

        void record(final long token, final CompletionSink sink, final int status, final int length)
        {
            final int slot = (int)(tail % depth);
            tokens[slot] = token;
            sinks[slot] = sink;
            statuses[slot] = status;
            lengths[slot] = length;
            tail++;
        }
    }
}
