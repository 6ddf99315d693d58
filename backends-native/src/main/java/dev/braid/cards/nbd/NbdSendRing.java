package dev.braid.cards.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Encoded requests on their way from one card queue's worker to the event loop, which writes them
 * to their connections and flushes. Single producer (the worker, {@link #offer} and {@link #kick}),
 * single consumer (the event loop, {@link #run}). It replaces {@code channel.write} from the worker,
 * which allocates a write task per request, with one preallocated task per batch.
 *
 * <p>Each entry keeps the connection it was encoded for: after a reconnect a stale entry is
 * released, never sent on the new connection (its slot was already completed by the failure).
 * What it does write it records per slot ({@link NbdCardQueue#sentCookie}): a drain waits for those
 * requests only, never for one whose bytes it dropped.
 */
final class NbdSendRing implements Runnable
{
    private final ByteBuf[] buffers;
    private final NbdConnection[] connections;
    private final int mask;
    private final AtomicLong tail = new AtomicLong();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final EventLoop loop;
    private final long[] sentCookie;
    private long producerTail;
    private long kickedTail;
    private long head;

    NbdSendRing(final int depth, final EventLoop loop, final long[] sentCookie)
    {
        this.sentCookie = sentCookie;
        final int capacity = Integer.highestOneBit(Math.max(2, depth) * 2 - 1);
        buffers = new ByteBuf[capacity];
        connections = new NbdConnection[capacity];
        mask = capacity - 1;
        this.loop = loop;
    }

    /** Worker: queues one encoded request; at most queue-depth entries are ever outstanding. */
    void offer(final NbdConnection connection, final ByteBuf buffer)
    {
        final int index = (int)producerTail & mask;
        buffers[index] = buffer;
        connections[index] = connection;
        producerTail++;
        tail.lazySet(producerTail);
    }

    /** Worker: has the event loop send what is queued, unless a send is already scheduled. */
    boolean kick()
    {
        if (kickedTail == producerTail)
        {
            return false;
        }
        kickedTail = producerTail;
        // A run not yet past scheduled.set(false) reads the tail after it, so it sends these too.
        if (scheduled.compareAndSet(false, true))
        {
            loop.execute(this);
        }
        return true;
    }

    /** Event loop: writes every queued request to its connection, then flushes each connection once. */
    public void run()
    {
        scheduled.set(false);
        final long end = tail.get();
        NbdConnection last = null;
        while (head < end)
        {
            final int index = (int)head & mask;
            final ByteBuf buffer = buffers[index];
            final NbdConnection connection = connections[index];
            buffers[index] = null;
            connections[index] = null;
            head++;
            if (connection.dead)
            {
                buffer.release();
                continue;
            }
            if (null != last && last != connection && !last.dead)
            {
                last.channel().flush();
            }
            // The request header's cookie (offset 8) names the slot: written, so a drain may wait for it.
            final long cookie = buffer.getLong(buffer.readerIndex() + 8);
            sentCookie[NbdCookie.slot(cookie)] = cookie;
            connection.channel().write(buffer, connection.channel().voidPromise());
            last = connection;
        }
        if (null != last && !last.dead)
        {
            last.channel().flush();
        }
    }

    /** Event loop, after the card closed: releases whatever was never sent. */
    void releaseAll()
    {
        run();
    }
}
