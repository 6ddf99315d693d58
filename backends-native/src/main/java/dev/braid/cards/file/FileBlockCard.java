package dev.braid.cards.file;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CompletionSink;

import java.util.function.ToLongFunction;

/**
 * A disk on a local regular file or block device ({@code file:PATH}), one io_uring per card queue.
 * Reads and writes go straight between the file and guest memory: each request's iovecs point at
 * the guest buffers, no copy. A request whose file offset, length, and every buffer address and
 * segment length are O_DIRECT-aligned goes through the O_DIRECT descriptor, any other through the
 * page cache ({@link #directRequests()}, {@link #bufferedRequests()}). FLUSH is FSYNC with
 * DATASYNC; DISCARD is FALLOCATE PUNCH_HOLE|KEEP_SIZE; WRITE_ZEROES is FALLOCATE ZERO_RANGE, and
 * completes UNSUPPORTED where the file system refuses it (no zero-writing fallback).
 *
 * <h2>Threading</h2>
 * {@link #submit}, {@link #poll}, {@link #canWait} and {@link #pollOrWait} of one queue from its card
 * worker only (an io_uring_enter per {@link FileCardContext#submitBatch} prepared requests inside submit,
 * default each one, and one at poll for the rest); {@link #fence()}, {@link #unfence()}, {@link #close()} and the queries
 * from any thread.
 *
 * <h2>Fence</h2>
 * {@code fence()} sets {@code fencing} and {@code fenced}, then waits until no worker is inside
 * submit, poll or a waiting poll (which ends within its timeout; each worker stores {@code busy = 1}
 * and then loads {@code fencing}: a Dekker pair of volatiles), so the fence thread owns every ring. For each queue with entries in the kernel it
 * submits one ASYNC_CANCEL (ANY|ALL) and waits for every CQE; each is reported CANCELLED by the
 * worker's next poll, whatever the kernel's result. Only then does fence return: the kernel has
 * finished with every guest buffer. A queue whose entries are not all back by the fence deadline is
 * failed hard: its ring fd is closed and the rings unmapped, its in-flight slots are abandoned
 * (never reported, never reused), and the card's link goes down for good. That stops Braid from
 * reporting or reusing those requests, not the kernel: closing a ring fd cancels what it can and
 * lets the rest finish in the background, so a request stuck in a driver may still write its guest
 * pages later. Do not call {@code fence()} from a {@link CompletionSink} this card is calling (inside
 * {@code poll}): it would wait for its own worker.
 */
public final class FileBlockCard implements BlockCard, AutoCloseable
{
    private final FileCardContext context;
    private final FileTarget target;
    private final FileCardQueue[] queues;
    private final Object fenceLock = new Object();

    private volatile boolean fencing;
    private volatile boolean fenced;
    private volatile boolean closed;
    private volatile String failure;
    private volatile CardEventListener listener;

    private FileBlockCard(final FileCardContext context, final FileTarget target, final FileCardQueue[] queues)
    {
        this.context = context;
        this.target = target;
        this.queues = queues;
    }

    /** Null when io_uring works on this machine, else one line saying why not. */
    public static String unavailableReason()
    {
        return IoUring.unavailableReason();
    }

    /**
     * Opens the file and sets up one ring per queue. Throws IllegalArgumentException with one line
     * for a bad spec or file, IllegalStateException with one line when io_uring is unavailable.
     */
    public static FileBlockCard open(final FileCardContext context)
    {
        context.conclude();
        final String unavailable = IoUring.unavailableReason();
        if (unavailable != null)
        {
            throw new IllegalStateException("file card " + context.name() + ": " + unavailable);
        }
        final FileTarget target = FileTarget.open(context.path());
        final FileCardQueue[] queues = new FileCardQueue[context.queueCount()];
        try
        {
            for (int q = 0; q < queues.length; q++)
            {
                queues[q] = new FileCardQueue(q, target, context.directIo(), context.queueDepth(), context.maxSegments(),
                    context.submitBatch());
            }
        }
        catch (final RuntimeException ex)
        {
            for (final FileCardQueue queue : queues)
            {
                if (queue != null)
                {
                    queue.close();
                }
            }
            target.close();
            throw new IllegalStateException("file card " + context.name() + ": " + ex.getMessage(), ex);
        }
        return new FileBlockCard(context, target, queues);
    }

    @Override
    public String name()
    {
        return context.name();
    }

    @Override
    public int queueCount()
    {
        return queues.length;
    }

    @Override
    public int queueDepth()
    {
        return context.queueDepth();
    }

    @Override
    public long capacitySectors()
    {
        return target.sizeBytes() / BlockIo.SECTOR_SIZE;
    }

    @Override
    public boolean isLinkUp()
    {
        return failure == null && !closed;
    }

    @Override
    public void setEventListener(final CardEventListener listener)
    {
        this.listener = listener;
    }

    // ---------------------------------------------------------------- card worker, one per queue

    @Override
    public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
    {
        final FileCardQueue q = queues[queue];
        q.busy = 1;
        try
        {
            if (fencing || fenced || closed)
            {
                return false;
            }
            final boolean wasFailed = q.isFailed();
            final boolean accepted = q.submit(io, token, sink);
            if (!wasFailed && q.isFailed())
            {
                fail(q.failure());
            }
            return accepted;
        }
        finally
        {
            q.busy = 0;
        }
    }

    @Override
    public int poll(final int queue)
    {
        final FileCardQueue q = queues[queue];
        q.busy = 1;
        try
        {
            if (fencing || closed)
            {
                return 0;
            }
            final boolean wasFailed = q.isFailed();
            final int work = q.poll();
            if (!wasFailed && q.isFailed())
            {
                fail(q.failure());
            }
            return work;
        }
        finally
        {
            q.busy = 0;
        }
    }

    /**
     * Requests of {@code queue} are in the kernel and nothing is ready (and the kernel takes a wait
     * timeout, IORING_FEAT_EXT_ARG): {@link #pollOrWait} would sleep. Inside the busy mark, as poll:
     * a fenced or failed ring is not the worker's to read.
     */
    @Override
    public boolean canWait(final int queue)
    {
        final FileCardQueue q = queues[queue];
        q.busy = 1;
        try
        {
            return !fencing && !closed && q.canWait();
        }
        finally
        {
            q.busy = 0;
        }
    }

    /**
     * {@link #poll}, except that when nothing is ready and requests are in the kernel, the worker
     * sleeps in io_uring_enter until the first CQE or {@code timeoutNanos}: for a worker with nothing
     * else to do (the aggregator's idle card wait), so a completion wakes it as it wakes a blocking fio,
     * rather than a spinning thread waiting for the CPU on a shared machine. A {@link #fence()}
     * meanwhile waits for the sleep to end, so keep the timeout short (tens to hundreds of microseconds).
     */
    @Override
    public int pollOrWait(final int queue, final long timeoutNanos)
    {
        final FileCardQueue q = queues[queue];
        q.busy = 1;
        try
        {
            if (fencing || closed)
            {
                return 0;
            }
            final boolean wasFailed = q.isFailed();
            final int work = q.pollOrWait(timeoutNanos);
            if (!wasFailed && q.isFailed())
            {
                fail(q.failure());
            }
            return work;
        }
        finally
        {
            q.busy = 0;
        }
    }

    /** Requests occupying slots of {@code queue}: in the kernel, or finished and not yet reported. */
    public int inFlight(final int queue)
    {
        return queues[queue].occupied();
    }

    // ---------------------------------------------------------------- fence, any thread

    @Override
    public void fence()
    {
        synchronized (fenceLock)
        {
            fenced = true;
            fencing = true;
            try
            {
                holdOffWorkers();
                final long deadline = System.nanoTime() + context.fenceTimeoutNanos();
                for (final FileCardQueue q : queues)
                {
                    if (!q.drainForFence(deadline))
                    {
                        fail(q.failure());
                    }
                }
            }
            finally
            {
                fencing = false;
            }
        }
    }

    private void holdOffWorkers()
    {
        // Volatile store of fencing, then volatile loads of busy: a worker past its check of fencing
        // is seen busy here and finishes its submit or poll first (a waiting poll within its timeout).
        for (final FileCardQueue q : queues)
        {
            while (q.busy != 0)
            {
                Thread.onSpinWait();
            }
        }
    }

    @Override
    public void unfence()
    {
        synchronized (fenceLock)
        {
            fenced = false;
        }
    }

    public boolean isFenced()
    {
        return fenced;
    }

    /** Closes every ring and the file. Like a hard fence failure: call {@link #fence()} first for a clean stop. */
    @Override
    public void close()
    {
        synchronized (fenceLock)
        {
            if (closed)
            {
                return;
            }
            fencing = true;
            closed = true;
            holdOffWorkers();
            for (final FileCardQueue q : queues)
            {
                q.close();
            }
            target.close();
            fencing = false;
        }
    }

    private void fail(final String reason)
    {
        if (failure != null)
        {
            return;
        }
        failure = reason;
        final CardEventListener l = listener;
        if (l != null)
        {
            l.onCardError(this, 0);
            l.onLinkChange(this, false);
        }
    }

    // ---------------------------------------------------------------- queries, any thread (racy counters)

    /** Null while healthy, else the first reason the card failed. */
    public String failure()
    {
        return failure;
    }

    /** GET_ID: a stable serial from the file's device and inode (the card SPI has no GET_ID; the device wiring passes this as its id). */
    public byte[] stableId()
    {
        return target.stableId();
    }

    /** The file's device (major &lt;&lt; 32 | minor) and inode: two cards with different ones serve different disks. */
    public long deviceId()
    {
        return target.deviceId();
    }

    public long inode()
    {
        return target.inode();
    }

    public boolean isBlockDevice()
    {
        return target.isBlockDevice();
    }

    /** Whether aligned requests use O_DIRECT; when false, {@link #directUnavailable()} says why. */
    public boolean directIo()
    {
        return context.directIo() && target.directFd() >= 0;
    }

    public String directUnavailable()
    {
        return target.directUnavailable();
    }

    public int directAlignment()
    {
        return target.offsetAlign();
    }

    public long directRequests()
    {
        return sum(q -> q.directRequests);
    }

    public long bufferedRequests()
    {
        return sum(q -> q.bufferedRequests);
    }

    /** io_uring_enter calls that submitted entries, all queues: requests per call shows the batching. */
    public long submitCalls()
    {
        long sum = 0;
        for (final FileCardQueue q : queues)
        {
            sum += q.enterCalls();
        }
        return sum;
    }

    /** Of {@link #submitCalls()}, the io_uring_enter calls that slept for a completion ({@link #pollOrWait}). */
    public long waitCalls()
    {
        long sum = 0;
        for (final FileCardQueue q : queues)
        {
            sum += q.waitCalls();
        }
        return sum;
    }

    public long cancelledCount()
    {
        return sum(q -> q.cancelled);
    }

    /** Requests left in a ring that was failed hard: never reported, the kernel may still finish them. */
    public long abandonedCount()
    {
        return sum(q -> q.abandoned);
    }

    private long sum(final ToLongFunction<FileCardQueue> count)
    {
        long sum = 0;
        for (final FileCardQueue q : queues)
        {
            sum += count.applyAsLong(q);
        }
        return sum;
    }

    @Override
    public String toString()
    {
        return "FileBlockCard{" + context.name() + " " + target.path() + ", " + queues.length + "x" +
            context.queueDepth() + (directIo() ? ", O_DIRECT@" + target.offsetAlign() : ", buffered only") + "}";
    }
}
