package dev.braid.examples.soak;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.virtio.memory.GuestMemory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A reference model of what the guest may observe, fed only with guest-visible events: a chain
 * posted on a queue (and the guest memory it names at that moment), a used entry reaped (and the
 * guest memory then). It knows nothing of the workloads' own bookkeeping nor of the device's
 * counters, so it checks the device independently of both: each posted request completes exactly
 * once, and what came back is something the device was allowed to return (see the subclasses).
 *
 * <p>Called on the guests' thread only (one thread in both soak modes), in the order the guest saw
 * things; not thread-safe.
 */
public abstract class GuestModel
{
    private static final int KEEP = 8;

    /** One posted request: the chain as posted, a copy (the workload reuses its chain). */
    protected static final class Posted
    {
        final int queue;
        final int id;
        final long[] gpa;
        final int[] length;
        final boolean[] writable;
        /** Subclass state: the parsed request. */
        Object request;

        Posted(final int queue, final int id, final BufferChain chain)
        {
            this.queue = queue;
            this.id = id;
            final int n = chain.count();
            gpa = new long[n];
            length = new int[n];
            writable = new boolean[n];
            for (int i = 0; i < n; i++)
            {
                gpa[i] = chain.gpa(i);
                length[i] = chain.length(i);
                writable[i] = chain.isWritable(i);
            }
        }

        int count()
        {
            return gpa.length;
        }

        long writableBytes()
        {
            long n = 0;
            for (int i = 0; i < gpa.length; i++)
            {
                n += writable[i] ? length[i] & 0xFFFF_FFFFL : 0;
            }
            return n;
        }
    }

    private final Map<Long, Posted> outstanding = new HashMap<>();
    private final List<String> first = new ArrayList<>();
    private long violations;
    private long duplicates;
    private long neverCompleted;
    protected long checked;

    private static long key(final int queue, final int id)
    {
        return (long)queue << 32 | (id & 0xFFFF_FFFFL);
    }

    /** A chain was added to guest queue {@code queue} and got {@code id}. */
    public final void onPost(final int queue, final int id, final BufferChain chain, final GuestMemory memory)
    {
        final Posted p = new Posted(queue, id, chain);
        final Posted old = outstanding.put(key(queue, id), p);
        if (old != null)
        {
            violation("queue " + queue + " id " + id + " posted again while still outstanding");
        }
        posted(p, memory);
    }

    /** A used entry was reaped from guest queue {@code queue}. */
    public final void onUsed(final int queue, final int id, final int length, final GuestMemory memory)
    {
        final Posted p = outstanding.remove(key(queue, id));
        if (p == null)
        {
            duplicates++;
            violation("queue " + queue + " id " + id + " completed but not outstanding (duplicate or stray)");
            return;
        }
        if ((length & 0xFFFF_FFFFL) > p.writableBytes())
        {
            violation("queue " + queue + " id " + id + " used length " + (length & 0xFFFF_FFFFL) + " > writable " +
                p.writableBytes());
        }
        completed(p, length, memory);
    }

    private boolean finished;

    /** At the end of a run: requests still owed on queues that must drain count as never completed. */
    public final void finish()
    {
        if (finished)
        {
            return;
        }
        finished = true;
        for (final Posted p : outstanding.values())
        {
            if (mustComplete(p.queue))
            {
                neverCompleted++;
                violation("queue " + p.queue + " id " + p.id + " posted and never completed");
            }
        }
    }

    /** Whether every chain posted on {@code queue} is owed a completion (not so for net rx buffers). */
    protected boolean mustComplete(final int queue)
    {
        return true;
    }

    protected abstract void posted(Posted p, GuestMemory memory);

    protected abstract void completed(Posted p, int length, GuestMemory memory);

    protected final void violation(final String what)
    {
        violations++;
        if (first.size() < KEEP)
        {
            first.add(what);
        }
    }

    /** Everything the model refused: duplicates, never completed, data no allowed write explains. */
    public final long violations()
    {
        return violations;
    }

    public final long duplicates()
    {
        return duplicates;
    }

    public final long neverCompleted()
    {
        return neverCompleted;
    }

    /** Units the model checked (blk/scsi: sectors of successful reads; net: replies). */
    public final long checked()
    {
        return checked;
    }

    /** The first few violations, described. */
    public final List<String> firstViolations()
    {
        return List.copyOf(first);
    }

    protected static long hash(final byte[] b, final int offset, final int length)
    {
        long h = 0xCBF29CE484222325L ^ length;
        for (int i = 0; i < length; i++)
        {
            h = (h ^ (b[offset + i] & 0xFF)) * 0x100000001B3L;
        }
        return h ^ (h >>> 29);
    }

    /** The bytes of elements of {@code p} selected by {@code include}, concatenated. */
    protected static byte[] gather(final Posted p, final GuestMemory memory, final int from, final int to,
        final boolean writable, final long limit)
    {
        long total = 0;
        for (int i = from; i < to; i++)
        {
            if (p.writable[i] == writable)
            {
                total += p.length[i];
            }
        }
        final int n = (int)Math.min(total, limit);
        final byte[] out = new byte[n];
        int at = 0;
        for (int i = from; i < to && at < n; i++)
        {
            if (p.writable[i] == writable)
            {
                final int len = Math.min(p.length[i], n - at);
                memory.getBytes(p.gpa[i], out, at, len);
                at += len;
            }
        }
        return out;
    }
}
