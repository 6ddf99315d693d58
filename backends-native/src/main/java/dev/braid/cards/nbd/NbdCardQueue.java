package dev.braid.cards.nbd;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CompletionSink;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One card queue's request slots and its two completion rings.
 *
 * <h2>Threading</h2>
 * The queue's card worker owns the free stack, the local ring, the ring head and the slot fields it
 * writes before sending (io, sink, token, cookie, offset, length, command). The connection's event
 * loop owns the per-request reply progress fields and is the one producer of the event ring. A slot's
 * {@link #state} is the hand-over: FREE -> SUBMITTED by the worker (volatile store, then it reads
 * the connection's dead flag), SUBMITTED -> DONE by one compare-and-set, from the event loop (a reply,
 * a failure, a fence) or from the worker (it saw the connection dead); whoever wins reports it, so a
 * request completes once. DONE -> FREE by the worker after its sink took the completion. A failure
 * takes a write SUBMITTED -> HELD (event loop) until its drain has the server's answer, HELD -> DONE:
 * no timeout, fence or new connection looks at a held slot.
 * The worker's slot fields reach the event loop through Netty's write task queue (happens-before).
 */
final class NbdCardQueue
{
    static final int FREE = 0;
    static final int SUBMITTED = 1;
    static final int DONE = 2;
    /** Sent on a connection that failed while the server is still there: completes with its answer from the drain. */
    static final int HELD = 3;

    final int index;
    final int depth;
    final AtomicIntegerArray state;

    // ---------------------------------------------------------------- written by the worker before send
    final BlockIo[] io;
    final CompletionSink[] sink;
    final long[] token;
    final long[] cookie;
    final long[] offset;
    final long[] length;
    final int[] command;
    final long[] submitNanos;
    private final int[] sequence;

    // ---------------------------------------------------------------- written by whoever won DONE
    final int[] status;
    final int[] moved;

    // ---------------------------------------------------------------- event loop: reply progress
    final long[] received;
    final int[] replyError;
    /** The cookie of the request the event loop last wrote to a connection, per slot: what a drain may wait for. */
    final long[] sentCookie;

    // ---------------------------------------------------------------- worker only
    private final int[] freeStack;
    private int freeCount;
    private final int[] localRing;
    private long localHead;
    private long localTail;
    final UnsafeBuffer workerScratch = new UnsafeBuffer(0, 0);
    NbdSendRing send;

    // ---------------------------------------------------------------- event ring: event loop -> worker
    private final int[] eventRing;
    private final int mask;
    private final AtomicLong eventTail = new AtomicLong();
    private long eventHead;

    // ---------------------------------------------------------------- fence handshake (Dekker with fence())
    volatile long submitSequence;
    volatile Thread submitter;

    NbdCardQueue(final int index, final int depth)
    {
        this.index = index;
        this.depth = depth;
        state = new AtomicIntegerArray(depth);
        io = new BlockIo[depth];
        sink = new CompletionSink[depth];
        token = new long[depth];
        cookie = new long[depth];
        offset = new long[depth];
        length = new long[depth];
        command = new int[depth];
        submitNanos = new long[depth];
        sequence = new int[depth];
        status = new int[depth];
        moved = new int[depth];
        received = new long[depth];
        replyError = new int[depth];
        sentCookie = new long[depth];
        freeStack = new int[depth];
        final java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int i = 0; i < depth; i++)
        {
            freeStack[i] = depth - 1 - i;
            // A random start per slot: a server cannot guess the cookie of a request it was never sent.
            sequence[i] = random.nextInt();
        }
        freeCount = depth;
        final int capacity = Integer.highestOneBit(Math.max(2, depth) * 2 - 1);
        localRing = new int[capacity];
        eventRing = new int[capacity];
        mask = capacity - 1;
    }

    // ---------------------------------------------------------------- worker

    /** A free slot with a fresh cookie, or -1. */
    int allocate()
    {
        if (freeCount == 0)
        {
            return -1;
        }
        final int slot = freeStack[--freeCount];
        final int seq = ++sequence[slot];
        cookie[slot] = NbdCookie.pack(index, slot, seq);
        received[slot] = 0;
        replyError[slot] = 0;
        return slot;
    }

    /** Completes a slot on the worker thread (it never reached a connection); reported at the next poll. */
    void completeLocally(final int slot, final int completionStatus, final int bytes)
    {
        status[slot] = completionStatus;
        moved[slot] = bytes;
        state.set(slot, DONE);
        localRing[(int)(localTail++) & mask] = slot;
    }

    /**
     * Reports finished slots to their sinks, local ones first. Stops at a sink that is full (the
     * completion stays and is retried). Returns the number reported.
     */
    int drain()
    {
        int work = 0;
        while (localHead < localTail)
        {
            final int slot = localRing[(int)localHead & mask];
            if (!report(slot))
            {
                return work;
            }
            localHead++;
            work++;
        }
        final long tail = eventTail.get();
        while (eventHead < tail)
        {
            final int slot = eventRing[(int)eventHead & mask];
            if (!report(slot))
            {
                return work;
            }
            eventHead++;
            work++;
        }
        return work;
    }

    private boolean report(final int slot)
    {
        if (!sink[slot].complete(token[slot], status[slot], moved[slot]))
        {
            return false;
        }
        io[slot] = null;
        sink[slot] = null;
        state.set(slot, FREE);
        freeStack[freeCount++] = slot;
        return true;
    }

    int inFlight()
    {
        return depth - freeCount;
    }

    // ---------------------------------------------------------------- event loop

    /**
     * The slot {@code cookie} names when it is in state {@code expected} for that very cookie, else -1.
     * State first (volatile), then the cookie the worker wrote before it: a slot reused since has another.
     */
    int slotIn(final long cookie, final int expected)
    {
        final int slot = NbdCookie.slot(cookie);
        return slot < depth && state.get(slot) == expected && this.cookie[slot] == cookie ? slot : -1;
    }

    /** Event loop: takes a SUBMITTED slot to DONE and queues it for the worker; false when it was not SUBMITTED. */
    boolean completeFromEventLoop(final int slot, final int completionStatus, final int bytes)
    {
        return complete(slot, SUBMITTED, completionStatus, bytes);
    }

    /** Event loop: SUBMITTED -> HELD; false when the worker reclaimed it first. */
    boolean hold(final int slot)
    {
        return state.compareAndSet(slot, SUBMITTED, HELD);
    }

    /** Event loop: completes a HELD slot; false when it was not HELD. */
    boolean completeHeld(final int slot, final int completionStatus, final int bytes)
    {
        return complete(slot, HELD, completionStatus, bytes);
    }

    private boolean complete(final int slot, final int from, final int completionStatus, final int bytes)
    {
        if (!state.compareAndSet(slot, from, DONE))
        {
            return false;
        }
        status[slot] = completionStatus;
        moved[slot] = bytes;
        final long tail = eventTail.get();
        eventRing[(int)tail & mask] = slot;
        // Release: the slot's status and the ring entry before the tail the worker reads.
        eventTail.lazySet(tail + 1);
        return true;
    }

    /** Worker: takes a SUBMITTED slot back to DONE when its connection died before it was sent. */
    boolean reclaim(final int slot, final int completionStatus)
    {
        if (!state.compareAndSet(slot, SUBMITTED, DONE))
        {
            return false;
        }
        status[slot] = completionStatus;
        moved[slot] = 0;
        localRing[(int)(localTail++) & mask] = slot;
        return true;
    }
}
