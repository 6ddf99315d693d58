package dev.braid.cards.file;

import java.util.concurrent.TimeUnit;

/**
 * Configuration of one {@link FileBlockCard}: fluent setters, then {@link #conclude()} fills defaults
 * and validates, throwing {@link IllegalArgumentException} with one line naming the bad value.
 */
public final class FileCardContext
{
    /** Slot index bits of a user_data; the rest is the slot generation. */
    static final int MAX_QUEUE_DEPTH = 4096;
    /** IOV_MAX: the most iovecs one readv/writev takes. */
    static final int MAX_SEGMENTS = 1024;

    private String name;
    private String path;
    private int queueCount = 1;
    private int queueDepth = 64;
    private int maxSegments = 256;
    private long fenceTimeoutNanos = TimeUnit.SECONDS.toNanos(5);
    private boolean directIo = true;
    private int submitBatch = 1;
    private boolean concluded;

    /** Parses a card spec {@code file:PATH}. */
    public FileCardContext spec(final String spec)
    {
        if (spec == null || !spec.startsWith("file:"))
        {
            throw new IllegalArgumentException("file card: spec '" + spec + "' is not file:PATH");
        }
        final String p = spec.substring("file:".length());
        if (p.isEmpty())
        {
            throw new IllegalArgumentException("file card: spec '" + spec + "' has no path (file:PATH)");
        }
        this.path = p;
        return this;
    }

    public FileCardContext path(final String path)
    {
        this.path = path;
        return this;
    }

    public FileCardContext name(final String name)
    {
        this.name = name;
        return this;
    }

    public FileCardContext queueCount(final int queueCount)
    {
        this.queueCount = queueCount;
        return this;
    }

    public FileCardContext queueDepth(final int queueDepth)
    {
        this.queueDepth = queueDepth;
        return this;
    }

    /** Most guest segments per request (after splitting at guest memory region borders). */
    public FileCardContext maxSegments(final int maxSegments)
    {
        this.maxSegments = maxSegments;
        return this;
    }

    /** How long fence() waits for the kernel to complete what it submitted before failing the ring hard. */
    public FileCardContext fenceTimeout(final long duration, final TimeUnit unit)
    {
        this.fenceTimeoutNanos = unit.toNanos(duration);
        return this;
    }

    /** Use O_DIRECT for aligned requests (default); off sends everything through the page cache. */
    public FileCardContext directIo(final boolean directIo)
    {
        this.directIo = directIo;
        return this;
    }

    /**
     * Most prepared requests one io_uring_enter hands the kernel (default 1): a request is submitted
     * as soon as this many are prepared, the rest at the worker's poll. 1 submits each request at once,
     * as fio's default {@code iodepth_batch_submit=1}: batches of ~8 raised the per-read latency of the
     * machine's virtio disk by ~130 µs (perf/README.md, "File card through the aggregated blk device vs
     * fio io_uring"). While the last enter's requests all completed inside it (page-cache hits, no
     * device in the way), submits wait for the poll's one enter instead: there a syscall per request
     * is pure cost.
     */
    public FileCardContext submitBatch(final int submitBatch)
    {
        this.submitBatch = submitBatch;
        return this;
    }

    public FileCardContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (path == null || path.isEmpty())
        {
            throw new IllegalArgumentException("file card: path is required (file:PATH)");
        }
        if (name == null)
        {
            name = "file";
        }
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' '))
        {
            throw new IllegalArgumentException("file card: name '" + name + "' must be non-empty without spaces");
        }
        if (queueCount < 1 || queueCount > 256)
        {
            throw new IllegalArgumentException("file card " + name + ": queueCount " + queueCount + " is not 1..256");
        }
        if (queueDepth < 1 || queueDepth > MAX_QUEUE_DEPTH)
        {
            throw new IllegalArgumentException("file card " + name + ": queueDepth " + queueDepth + " is not 1.." + MAX_QUEUE_DEPTH);
        }
        if (maxSegments < 1 || maxSegments > MAX_SEGMENTS)
        {
            throw new IllegalArgumentException("file card " + name + ": maxSegments " + maxSegments + " is not 1.." + MAX_SEGMENTS);
        }
        if (submitBatch < 1 || submitBatch > MAX_QUEUE_DEPTH)
        {
            throw new IllegalArgumentException("file card " + name + ": submitBatch " + submitBatch + " is not 1.." + MAX_QUEUE_DEPTH);
        }
        if (fenceTimeoutNanos <= 0)
        {
            throw new IllegalArgumentException("file card " + name + ": fenceTimeout " + fenceTimeoutNanos + "ns must be positive");
        }
        concluded = true;
        return this;
    }

    public String name()
    {
        return name;
    }

    public String path()
    {
        return path;
    }

    public int queueCount()
    {
        return queueCount;
    }

    public int queueDepth()
    {
        return queueDepth;
    }

    public int maxSegments()
    {
        return maxSegments;
    }

    public long fenceTimeoutNanos()
    {
        return fenceTimeoutNanos;
    }

    public boolean directIo()
    {
        return directIo;
    }

    public int submitBatch()
    {
        return submitBatch;
    }
}
