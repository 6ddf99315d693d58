package dev.braid.cards.nbd;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.memory.GuestMemory;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import org.agrona.collections.Long2LongHashMap;

import static dev.braid.cards.nbd.NbdProtocol.*;

/**
 * A remote disk over NBD ({@code nbd://HOST:PORT/EXPORT}, {@code nbd+unix:///EXPORT?socket=PATH}),
 * on Netty's native epoll transport: fixed newstyle handshake, NBD_OPT_GO with NBD_INFO_BLOCK_SIZE,
 * structured replies when the server offers them, and one connection per card queue when the server
 * sets NBD_FLAG_CAN_MULTI_CONN (one connection for all queues otherwise).
 *
 * <h2>Threading</h2>
 * As the card SPI says: {@link #submit} and {@link #poll} of one queue from one thread at a time (its
 * card worker); {@link #fence()}, {@link #unfence()}, {@link #close()} and the queries from any thread.
 * Every connection of a card lives on the card's one event loop thread, which alone decodes replies
 * and writes guest memory ({@link NbdConnection}). A worker encodes each request, and copies a
 * write's data from guest memory, into a pooled direct buffer on its own thread, queues it on its
 * queue's {@link NbdSendRing}, and once per poll has the event loop write and flush the batch; the
 * event loop hands completions back through a per-queue single-producer ring ({@link NbdCardQueue}).
 * Listener events go out on a separate thread, so a listener that blocks cannot stall the event loop
 * that {@link #fence()} waits for.
 *
 * <h2>Fence</h2>
 * {@link #fence()} sets the fenced flag, waits for any submit in progress on another thread (a
 * Dekker pair with {@link #submit}: it may be copying guest memory), then runs on the event loop:
 * every connection is marked dead and closed, and every request still in flight completes CANCELLED.
 * Since the event loop is the only writer of guest memory and checks the dead flag before every
 * write, when fence returns no byte from those connections can reach guest memory again. The card
 * then reconnects in the background with back-off; new connections carry no old request.
 *
 * <h2>Writes at the storage</h2>
 * A server finishes a write it has read whether or not its client is still connected, so closing a
 * path does not stop its writes, and a replay on another path could land first and be undone. A
 * connection that is still open therefore drains instead of closing: it stays dead for guest
 * memory, reads on until the server has answered every write it was sent, then closes. A fence
 * returns once the drains are over; a failure holds its writes' completions until their answer
 * (which may be OK). {@link #fence()} waits for the drains; {@link #beginFence()} leaves them to
 * {@link #isFenceComplete()}. Both are bounded by {@link NbdCardContext#writeDrainTimeout}: a write still
 * unanswered then is counted ({@link #lateWriteRisks()}) with one log line. A server that hangs up
 * is taken as done (a process exit waits for its I/O before its sockets close).
 *
 * <h2>Failures</h2>
 * A hostile or broken reply (bad magic, unknown cookie, a chunk outside its request, a short read,
 * a hang-up mid-reply), a request past its timeout or a lost connection fails the whole card with one
 * logged line ({@link #lastFailure()}): all connections close, in-flight requests complete IO_ERROR
 * (CANCELLED when fenced), the link goes down (listener), and reconnection starts with back-off. New
 * submissions while the link is down complete IO_ERROR.
 */
public final class NbdBlockCard implements BlockCard, AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(NbdBlockCard.class.getName());
    private static final NbdConnection[] NONE = new NbdConnection[0];

    private final NbdCardContext context;
    private final String name;
    private final NbdUri uri;
    private final NbdCardQueue[] queues;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final DefaultEventExecutor events;
    private final SocketAddress address;

    private volatile NbdConnection[] connections = NONE;
    private volatile NbdExport export;
    private volatile boolean fenced;
    private volatile boolean linkUp;
    private volatile boolean closed;
    private volatile CardEventListener listener;
    private volatile Promise<Void> pendingDrains;
    private volatile String lastFailure;
    private volatile String lastReconnectFailure;
    private volatile long failureCount;
    private volatile long reconnectCount;
    private volatile long abortedCount;
    private volatile long drainedWrites;
    private volatile long lateWriteRisks;
    private final long capacitySectors;

    // event loop only
    private int connectEpoch;
    private int connectionCount;
    private long backoffNanos;
    private boolean reconnectPending;
    private ScheduledFuture<?> timeoutCheck;
    private final ArrayList<NbdConnection> draining = new ArrayList<>();
    private Promise<Void> drainsOver;

    private NbdBlockCard(final NbdCardContext context) throws IOException
    {
        this.context = context;
        this.name = context.name();
        this.uri = context.uri();
        if (!Epoll.isAvailable())
        {
            throw new IOException("nbd card " + name + ": native epoll unavailable: " + Epoll.unavailabilityCause());
        }
        queues = new NbdCardQueue[context.queueCount()];
        for (int i = 0; i < queues.length; i++)
        {
            queues[i] = new NbdCardQueue(i, context.queueDepth());
        }
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("braid-nbd-" + name, true), EpollIoHandler.newFactory());
        loop = group.next();
        for (final NbdCardQueue q : queues)
        {
            q.send = new NbdSendRing(q.depth, loop, q.sentCookie);
        }
        address = uri.isUnixSocket() ?
            new DomainSocketAddress(uri.socketPath()) :
            InetSocketAddress.createUnresolved(uri.host(), uri.port());
        events = new DefaultEventExecutor(new DefaultThreadFactory("braid-nbd-events-" + name, true));
        backoffNanos = context.reconnectBackoffMinNanos();

        final Promise<NbdConnection[]> first = loop.newPromise();
        loop.execute(() -> connectAll(connectEpoch, first));
        final long timeoutMillis = TimeUnit.NANOSECONDS.toMillis(context.connectTimeoutNanos()) * 2 + 1000;
        if (!first.awaitUninterruptibly(timeoutMillis) || !first.isSuccess())
        {
            final String why = first.isDone() ? first.cause().getMessage() : "no handshake within " + timeoutMillis + " ms";
            close();
            throw new IOException("nbd card " + name + " (" + uri + "): " + why);
        }
        capacitySectors = export.sizeBytes() / BlockIo.SECTOR_SIZE;
    }

    /** Connects and negotiates every connection; throws {@link IOException} with one line when the server cannot be used. */
    public static NbdBlockCard open(final NbdCardContext context) throws IOException
    {
        return new NbdBlockCard(context.conclude());
    }

    // ---------------------------------------------------------------- Card, readable from any thread

    public String name()
    {
        return name;
    }

    public int queueCount()
    {
        return queues.length;
    }

    public int queueDepth()
    {
        return context.queueDepth();
    }

    public long capacitySectors()
    {
        return capacitySectors;
    }

    public boolean isLinkUp()
    {
        return linkUp;
    }

    /** The server's maximum payload (NBD_INFO_BLOCK_SIZE, 32 MiB when it gave none). */
    public long maxTransferBytes()
    {
        return export.maximumPayload();
    }

    public void setEventListener(final CardEventListener listener)
    {
        this.listener = listener;
    }

    /** The listener set last (for tests that wrap the device's own listener). */
    CardEventListener eventListenerForTest()
    {
        return listener;
    }

    /** The current connection set (for tests that watch what the event loop writes to a connection). */
    NbdConnection[] connectionsForTest()
    {
        return connections;
    }

    /** The last reason the card failed, or null. */
    public String lastFailure()
    {
        return lastFailure;
    }

    /** Why the last reconnection attempt failed, or null. */
    public String lastReconnectFailure()
    {
        return lastReconnectFailure;
    }

    public long failureCount()
    {
        return failureCount;
    }

    /** Requests in flight that a failure, fence or close completed without an answer from the server. */
    public long abortedCount()
    {
        return abortedCount;
    }

    /** Writes a drain saw answered after their connection was fenced or failed. */
    public long drainedWrites()
    {
        return drainedWrites;
    }

    /** Writes still unanswered when a drain had to end (deadline, a reply it could not place): they may land late. */
    public long lateWriteRisks()
    {
        return lateWriteRisks;
    }

    /** Successful reconnections after a failure or a fence. */
    public long reconnectCount()
    {
        return reconnectCount;
    }

    /** Connections per card: the queue count (up to the context's maximum) under multi-conn, else 1. */
    public int connectionCount()
    {
        return connections.length;
    }

    public boolean structuredReplies()
    {
        return export.structuredReplies();
    }

    public int transmissionFlags()
    {
        return export.transmissionFlags();
    }

    public long exportSizeBytes()
    {
        return export.sizeBytes();
    }

    public String toString()
    {
        return "nbd card " + name + " " + uri + " " + export;
    }

    // ---------------------------------------------------------------- submit and poll, the queue's worker

    public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
    {
        final NbdCardQueue q = queues[queue];
        final Thread self = Thread.currentThread();
        if (q.submitter != self)
        {
            q.submitter = self;
        }
        final long sequence = q.submitSequence;
        // Volatile store (busy), then the volatile load of fenced: the submit half of the Dekker pair with fence().
        q.submitSequence = sequence + 1;
        try
        {
            if (fenced)
            {
                return false;
            }
            final int slot = q.allocate();
            if (slot < 0)
            {
                return false;
            }
            q.io[slot] = io;
            q.sink[slot] = sink;
            q.token[slot] = token;
            start(q, slot, io);
            return true;
        }
        finally
        {
            q.submitSequence = sequence + 2;
        }
    }

    private void start(final NbdCardQueue q, final int slot, final BlockIo io)
    {
        final NbdConnection[] conns = connections;
        final NbdExport e = export;
        if (conns.length == 0 || !linkUp)
        {
            q.completeLocally(slot, CardStatus.IO_ERROR, 0);
            return;
        }
        final NbdConnection conn = conns[q.index % conns.length];
        if (conn.dead)
        {
            q.completeLocally(slot, CardStatus.IO_ERROR, 0);
            return;
        }

        final int command;
        final long length;
        switch (io.operation())
        {
            case BlockIo.READ:
            case BlockIo.WRITE:
                command = io.operation() == BlockIo.READ ? CMD_READ : CMD_WRITE;
                length = io.data().totalLength();
                if (length > e.maximumPayload())
                {
                    // Above the server's maximum payload: refused, not split. The blk device's size_max
                    // and seg_max keep a guest's requests within maxTransferBytes().
                    q.completeLocally(slot, CardStatus.INVALID, 0);
                    return;
                }
                break;
            case BlockIo.FLUSH:
                if (!e.has(TFLAG_SEND_FLUSH))
                {
                    // No flush advertised: the server has no volatile cache to flush.
                    q.completeLocally(slot, CardStatus.OK, 0);
                    return;
                }
                command = CMD_FLUSH;
                length = 0;
                break;
            case BlockIo.DISCARD:
            case BlockIo.WRITE_ZEROES:
            {
                final boolean trim = io.operation() == BlockIo.DISCARD;
                if (!e.has(trim ? TFLAG_SEND_TRIM : TFLAG_SEND_WRITE_ZEROES))
                {
                    q.completeLocally(slot, CardStatus.UNSUPPORTED, 0);
                    return;
                }
                if (io.sectorCount() < 0 || io.sectorCount() > 0xFFFF_FFFFL / BlockIo.SECTOR_SIZE)
                {
                    q.completeLocally(slot, CardStatus.INVALID, 0);
                    return;
                }
                command = trim ? CMD_TRIM : CMD_WRITE_ZEROES;
                length = io.sectorCount() * BlockIo.SECTOR_SIZE;
                break;
            }
            default:
                q.completeLocally(slot, CardStatus.UNSUPPORTED, 0);
                return;
        }

        long offset = 0;
        int flags = 0;
        if (command != CMD_FLUSH)
        {
            if (length == 0)
            {
                q.completeLocally(slot, CardStatus.OK, 0);
                return;
            }
            final long sector = io.sector();
            if (sector < 0 || sector > e.sizeBytes() / BlockIo.SECTOR_SIZE ||
                length > e.sizeBytes() - sector * BlockIo.SECTOR_SIZE)
            {
                q.completeLocally(slot, CardStatus.INVALID, 0);
                return;
            }
            offset = sector * BlockIo.SECTOR_SIZE;
            if (((offset | length) & (e.minimumBlock() - 1)) != 0)
            {
                q.completeLocally(slot, CardStatus.INVALID, 0);
                return;
            }
            if (command != CMD_READ)
            {
                if (e.has(TFLAG_READ_ONLY))
                {
                    q.completeLocally(slot, CardStatus.UNSUPPORTED, 0);
                    return;
                }
                if (context.forceUnitAccess() && e.has(TFLAG_SEND_FUA))
                {
                    flags = CMD_FLAG_FUA;
                }
            }
        }

        q.offset[slot] = offset;
        q.length[slot] = length;
        q.command[slot] = command;
        q.submitNanos[slot] = System.nanoTime();

        final int dataLength = command == CMD_WRITE ? (int)length : 0;
        final ByteBuf buf = conn.channel().alloc().directBuffer(REQUEST_HEADER_LENGTH + dataLength);
        buf.writeInt(REQUEST_MAGIC)
            .writeShort(flags)
            .writeShort(command)
            .writeLong(q.cookie[slot])
            .writeLong(offset)
            .writeInt((int)length);
        if (dataLength > 0)
        {
            copyFromGuest(q, io.data(), buf);
        }

        // Volatile store (SUBMITTED), then the volatile load of dead: the worker half of the
        // Dekker pair with the event loop's closeAll(); one compare-and-set decides who reports.
        q.state.set(slot, NbdCardQueue.SUBMITTED);
        if (conn.dead)
        {
            buf.release();
            q.reclaim(slot, fenced ? CardStatus.CANCELLED : CardStatus.IO_ERROR);
            return;
        }
        q.send.offer(conn, buf);
    }

    private static void copyFromGuest(final NbdCardQueue q, final IoVector vector, final ByteBuf buf)
    {
        final GuestMemory memory = vector.memory();
        int at = buf.writerIndex();
        for (int i = 0, count = vector.count(); i < count; i++)
        {
            final int length = vector.length(i);
            NbdBuffers.wrap(q.workerScratch, buf, at, length);
            memory.getBytes(vector.address(i), q.workerScratch, 0, length);
            at += length;
        }
        buf.writerIndex(at);
    }

    public int poll(final int queue)
    {
        final NbdCardQueue q = queues[queue];
        final int work = q.send.kick() ? 1 : 0;
        return work + q.drain();
    }

    /** Requests of queue {@code queue} not yet reported to their sinks (worker thread). */
    public int inFlight(final int queue)
    {
        return queues[queue].inFlight();
    }

    // ---------------------------------------------------------------- fence, any thread

    /** {@link #beginFence()}, then a wait for its drains (at most the write drain timeout). */
    public void fence()
    {
        final Promise<Void> drains = startFence();
        if (null != drains && !loop.inEventLoop())
        {
            // The loop's deadline ends every drain; the margin only covers a loop that stopped.
            drains.awaitUninterruptibly(TimeUnit.NANOSECONDS.toMillis(context.writeDrainTimeoutNanos()) + 1000);
        }
    }

    /**
     * Fences guest memory before it returns (submissions refused, every connection dead on the event
     * loop) and leaves the connections that drain to finish in the background: {@link #isFenceComplete()}.
     */
    public void beginFence()
    {
        pendingDrains = startFence();
    }

    public boolean isFenceComplete()
    {
        final Promise<Void> drains = pendingDrains;
        return null == drains || drains.isDone() || loop.isShuttingDown();
    }

    private Promise<Void> startFence()
    {
        fenced = true;
        // Volatile store (fenced), then the volatile loads of each submit sequence: wait for a submit
        // that may still copy guest memory on another thread.
        final Thread self = Thread.currentThread();
        for (final NbdCardQueue q : queues)
        {
            final long sequence = q.submitSequence;
            if ((sequence & 1) != 0 && q.submitter != self)
            {
                int spins = 0;
                while (q.submitSequence == sequence)
                {
                    if (++spins < 100)
                    {
                        Thread.onSpinWait();
                    }
                    else
                    {
                        Thread.yield();
                    }
                }
            }
        }
        @SuppressWarnings("unchecked")
        final Promise<Void>[] drains = new Promise[1];
        runOnLoopAndWait(() ->
        {
            connectEpoch++;
            closeAll(CardStatus.CANCELLED, null, true);
            setLinkDown();
            scheduleReconnect();
            drains[0] = drainsOver();
        });
        return drains[0];
    }

    public void unfence()
    {
        fenced = false;
        runOnLoopAndWait(() ->
        {
            if (!linkUp)
            {
                scheduleReconnect();
            }
        });
    }

    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        runOnLoopAndWait(() ->
        {
            connectEpoch++;
            for (final NbdConnection conn : connections)
            {
                if (!conn.dead && null != conn.channel())
                {
                    final ByteBuf disc = conn.channel().alloc().buffer(REQUEST_HEADER_LENGTH);
                    disc.writeInt(REQUEST_MAGIC).writeShort(0).writeShort(CMD_DISC).writeLong(0).writeLong(0).writeInt(0);
                    conn.channel().writeAndFlush(disc);
                }
            }
            closeAll(CardStatus.CANCELLED, null, false);
            for (final NbdConnection conn : new ArrayList<>(draining))
            {
                conn.kill();
            }
            setLinkDown();
            if (null != timeoutCheck)
            {
                timeoutCheck.cancel(false);
            }
            for (final NbdCardQueue q : queues)
            {
                q.send.releaseAll();
            }
        });
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        events.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    private void runOnLoopAndWait(final Runnable task)
    {
        if (loop.inEventLoop())
        {
            task.run();
            return;
        }
        if (loop.isShuttingDown())
        {
            return;
        }
        try
        {
            loop.submit(task).syncUninterruptibly();
        }
        catch (final java.util.concurrent.RejectedExecutionException ex)
        {
            // The loop is gone: no connection of this card can run any more.
        }
    }

    // ---------------------------------------------------------------- event loop

    /** Event loop: a connection of the current set failed; fails the card. Stale connections are ignored. */
    void onConnectionFailed(final NbdConnection conn, final String reason)
    {
        boolean current = false;
        for (final NbdConnection c : connections)
        {
            current |= c == conn;
        }
        if (current)
        {
            failCard(reason, conn);
        }
    }

    /** Fails the card; {@code failed} is the connection that broke (it cannot drain), null for a timeout. */
    private void failCard(final String reason, final NbdConnection failed)
    {
        lastFailure = reason;
        failureCount = failureCount + 1;
        LOG.log(System.Logger.Level.WARNING, "nbd card " + name + " (" + uri + ") failed: " + reason);
        connectEpoch++;
        closeAll(fenced ? CardStatus.CANCELLED : CardStatus.IO_ERROR, failed, true);
        setLinkDown();
        if (null != events && !closed)
        {
            final CardEventListener l = listener;
            if (null != l)
            {
                events.execute(() -> l.onCardError(this, CardStatus.IO_ERROR));
            }
        }
        scheduleReconnect();
    }

    /**
     * Ends every connection of the current set and completes what was in flight on it with
     * {@code status}. With {@code drain}, a connection still open (not {@code failed}) drains: what was
     * encoded goes out first, the drain waits for what the event loop wrote to the connection, and a
     * failure ({@code status} other than CANCELLED) holds those writes' completions for the server's
     * answer. A request in flight whose bytes were never written (a worker queued it after that last
     * send; the send ring drops it) completes here: the server cannot answer, nor land, what it never got.
     */
    private void closeAll(final int status, final NbdConnection failed, final boolean drain)
    {
        final NbdConnection[] conns = connections;
        final boolean drains = drain && context.writeDrainTimeoutNanos() > 0;
        if (drains)
        {
            for (final NbdCardQueue q : queues)
            {
                q.send.run();
            }
        }
        for (final NbdConnection conn : conns)
        {
            if (conn.isDraining())
            {
                continue;
            }
            if (drains && conn != failed && conn.canDrain())
            {
                conn.beginDrain(context.writeDrainTimeoutNanos());
            }
            else
            {
                conn.kill();
            }
        }
        final boolean holdWrites = status != CardStatus.CANCELLED;
        for (final NbdCardQueue q : queues)
        {
            final NbdConnection conn = conns.length == 0 ? null : conns[q.index % conns.length];
            final boolean drainsQueue = null != conn && conn.isDraining();
            for (int slot = 0; slot < q.depth; slot++)
            {
                if (q.state.get(slot) != NbdCardQueue.SUBMITTED)
                {
                    continue;
                }
                if (drainsQueue && q.sentCookie[slot] == q.cookie[slot])
                {
                    conn.track(q.cookie[slot], q.command[slot], q.length[slot], q.replyError[slot]);
                    if (holdWrites && isWrite(q.command[slot]) && q.hold(slot))
                    {
                        continue;
                    }
                }
                if (q.completeFromEventLoop(slot, status, 0))
                {
                    abortedCount = abortedCount + 1;
                }
            }
        }
        for (final NbdConnection conn : conns)
        {
            if (conn.isDraining() && !draining.contains(conn) && conn.endDrainIfIdle())
            {
                draining.add(conn);
            }
        }
    }

    private static boolean isWrite(final int command)
    {
        return command == CMD_WRITE || command == CMD_WRITE_ZEROES || command == CMD_TRIM;
    }

    /** Event loop: a promise that completes when no connection drains any more, or null when none does. */
    private Promise<Void> drainsOver()
    {
        if (draining.isEmpty())
        {
            return null;
        }
        if (null == drainsOver)
        {
            drainsOver = loop.newPromise();
        }
        return drainsOver;
    }

    /** Event loop: a draining connection saw the answer to a write; a failure may have held its completion for it. */
    void onDrainedWrite(final long cookie, final int status, final int bytes)
    {
        drainedWrites = drainedWrites + 1;
        complete(cookie, status, bytes);
    }

    /** Event loop: a drain ended; writes it still waited for complete IO_ERROR if a failure held them. */
    void onDrainEnded(final NbdConnection conn, final int reason, final int unanswered, final Long2LongHashMap table)
    {
        final Long2LongHashMap.KeyIterator cookies = table.keySet().iterator();
        while (cookies.hasNext())
        {
            complete(cookies.nextValue(), CardStatus.IO_ERROR, 0);
        }
        if (unanswered > 0 && reason != NbdConnection.DRAIN_HANG_UP)
        {
            lateWriteRisks = lateWriteRisks + unanswered;
            LOG.log(System.Logger.Level.WARNING, "nbd card " + name + " (" + uri + "): " + unanswered +
                " write(s) still unanswered when the drain of a fenced or failed connection ended (" +
                (reason == NbdConnection.DRAIN_DEADLINE ? "after " +
                TimeUnit.NANOSECONDS.toMillis(context.writeDrainTimeoutNanos()) + " ms" :
                reason == NbdConnection.DRAIN_CLOSED ? "the card closed" : "a reply it could not place") +
                "): the server may still land them after their replay");
        }
        draining.remove(conn);
        if (draining.isEmpty())
        {
            if (null != drainsOver)
            {
                drainsOver.trySuccess(null);
                drainsOver = null;
            }
        }
    }

    private void complete(final long cookie, final int status, final int bytes)
    {
        final int index = NbdCookie.queue(cookie);
        // Only a held slot waits for a drain's answer; any other was completed at the fence or failure.
        final int slot = index < queues.length ? queues[index].slotIn(cookie, NbdCardQueue.HELD) : -1;
        if (slot >= 0 && queues[index].completeHeld(slot, status, bytes) && status != CardStatus.OK)
        {
            abortedCount = abortedCount + 1;
        }
    }

    private void setLinkDown()
    {
        if (linkUp)
        {
            linkUp = false;
            notifyLink(false);
        }
    }

    private void notifyLink(final boolean up)
    {
        final CardEventListener l = listener;
        if (null != l && !events.isShuttingDown())
        {
            events.execute(() -> l.onLinkChange(this, up));
        }
    }

    private void scheduleReconnect()
    {
        if (closed || reconnectPending)
        {
            return;
        }
        reconnectPending = true;
        final int epoch = connectEpoch;
        loop.schedule(() ->
        {
            reconnectPending = false;
            if (closed || epoch != connectEpoch || linkUp)
            {
                if (!closed && !linkUp && epoch != connectEpoch)
                {
                    scheduleReconnect();
                }
                return;
            }
            final Promise<NbdConnection[]> attempt = loop.newPromise();
            connectAll(epoch, attempt);
            attempt.addListener(f ->
            {
                if (!f.isSuccess() && !closed && epoch == connectEpoch)
                {
                    lastReconnectFailure = f.cause().getMessage();
                    backoffNanos = Math.min(backoffNanos * 2, context.reconnectBackoffMaxNanos());
                    scheduleReconnect();
                }
            });
        }, backoffNanos, TimeUnit.NANOSECONDS);
    }

    private void connectAll(final int epoch, final Promise<NbdConnection[]> result)
    {
        connectOne(0).addListener((Future<NbdConnection> f) ->
        {
            if (!f.isSuccess())
            {
                result.tryFailure(f.cause());
                return;
            }
            final NbdConnection first = f.getNow();
            final NbdExport e = first.export();
            final String mismatch = checkExport(e);
            if (null != mismatch || epoch != connectEpoch || closed)
            {
                first.kill();
                result.tryFailure(new IOException(null != mismatch ? mismatch : "superseded"));
                return;
            }
            final int count = connectionCount != 0 ? connectionCount :
                e.has(TFLAG_CAN_MULTI_CONN) ? Math.min(queues.length, context.maxConnections()) : 1;
            if (count > 1 && !e.has(TFLAG_CAN_MULTI_CONN))
            {
                first.kill();
                result.tryFailure(new IOException("server no longer sets NBD_FLAG_CAN_MULTI_CONN for " + count + " connections"));
                return;
            }
            final NbdConnection[] conns = new NbdConnection[count];
            conns[0] = first;
            first.serve(count);
            final int[] remaining = {count - 1};
            if (remaining[0] == 0)
            {
                publish(epoch, conns, e, result);
                return;
            }
            for (int i = 1; i < count; i++)
            {
                final int index = i;
                connectOne(index).addListener((Future<NbdConnection> g) ->
                {
                    if (result.isDone())
                    {
                        if (g.isSuccess())
                        {
                            g.getNow().kill();
                        }
                        return;
                    }
                    String why = g.isSuccess() ? null : g.cause().getMessage();
                    if (null == why)
                    {
                        final String differs = g.getNow().export().cannotReplace(e, context.forceUnitAccess());
                        why = null == differs ? null : "connection " + index + " differs from connection 0: " + differs;
                    }
                    if (null != why)
                    {
                        if (g.isSuccess())
                        {
                            g.getNow().kill();
                        }
                        for (final NbdConnection c : conns)
                        {
                            if (null != c)
                            {
                                c.kill();
                            }
                        }
                        result.tryFailure(new IOException(why));
                        return;
                    }
                    conns[index] = g.getNow();
                    conns[index].serve(count);
                    if (--remaining[0] == 0)
                    {
                        publish(epoch, conns, e, result);
                    }
                });
            }
        });
    }

    private String checkExport(final NbdExport e)
    {
        final NbdExport known = export;
        if (null == known)
        {
            return e.sizeBytes() < BlockIo.SECTOR_SIZE ? "export of " + e.sizeBytes() + " bytes is smaller than one sector" : null;
        }
        // A reconnect must keep every promise the first export made to the guest's device.
        return e.cannotReplace(known, context.forceUnitAccess());
    }

    private void publish(final int epoch, final NbdConnection[] conns, final NbdExport e, final Promise<NbdConnection[]> result)
    {
        if (epoch != connectEpoch || closed)
        {
            for (final NbdConnection c : conns)
            {
                c.kill();
            }
            result.tryFailure(new IOException("superseded"));
            return;
        }
        final boolean reconnect = null != export;
        if (!reconnect)
        {
            export = e;
        }
        connectionCount = conns.length;
        connections = conns;
        backoffNanos = context.reconnectBackoffMinNanos();
        if (null == timeoutCheck)
        {
            final long period = Math.max(context.requestTimeoutNanos() / 4, TimeUnit.MILLISECONDS.toNanos(1));
            timeoutCheck = loop.scheduleAtFixedRate(this::checkTimeouts, period, period, TimeUnit.NANOSECONDS);
        }
        if (reconnect)
        {
            reconnectCount = reconnectCount + 1;
        }
        linkUp = true;
        notifyLink(true);
        result.trySuccess(conns);
    }

    private Future<NbdConnection> connectOne(final int index)
    {
        final Promise<NbdConnection> handshake = loop.newPromise();
        final NbdConnection conn = new NbdConnection(this, index, queues, uri.exportName(), context.structuredReplies(), handshake);
        final int connectMillis = (int)Math.max(1, TimeUnit.NANOSECONDS.toMillis(context.connectTimeoutNanos()));
        final Bootstrap bootstrap = new Bootstrap()
            .group(loop)
            .channel(uri.isUnixSocket() ? EpollDomainSocketChannel.class : EpollSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
            .handler(conn);
        if (!uri.isUnixSocket())
        {
            bootstrap.option(ChannelOption.TCP_NODELAY, true);
        }
        final ChannelFuture connect = bootstrap.connect(address);
        connect.addListener(f ->
        {
            if (!f.isSuccess())
            {
                handshake.tryFailure(new IOException("connect to " + uri + " failed: " + f.cause().getMessage()));
            }
        });
        final ScheduledFuture<?> timer = loop.schedule(() ->
        {
            handshake.tryFailure(new IOException("no NBD handshake from " + uri + " within " + connectMillis + " ms"));
        }, context.connectTimeoutNanos(), TimeUnit.NANOSECONDS);
        handshake.addListener(f ->
        {
            timer.cancel(false);
            if (!f.isSuccess())
            {
                conn.kill();
                connect.channel().close();
            }
        });
        return handshake;
    }

    private void checkTimeouts()
    {
        if (!linkUp)
        {
            return;
        }
        final long now = System.nanoTime();
        final long timeout = context.requestTimeoutNanos();
        for (final NbdCardQueue q : queues)
        {
            for (int slot = 0; slot < q.depth; slot++)
            {
                if (q.state.get(slot) == NbdCardQueue.SUBMITTED && now - q.submitNanos[slot] > timeout)
                {
                    failCard("request timed out after " + TimeUnit.NANOSECONDS.toMillis(now - q.submitNanos[slot]) +
                        " ms (queue " + q.index + ", command " + q.command[slot] + ", offset " + q.offset[slot] + ")", null);
                    return;
                }
            }
        }
    }
}
