package dev.braid.testkit.guest;

import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.UsedConsumer;
import org.agrona.concurrent.Agent;

/**
 * The request-slot machinery shared by the checking block guests: one fixed guest-memory slot per
 * queue entry, the map from chain id to slot, the post loop with its publish and kick, and the
 * stray check and counters every completion goes through. Subclasses build and check the requests;
 * allocation-free once built.
 */
abstract class SlottedGuestWorkload implements Agent, UsedConsumer
{
    private final DriverQueue queue;
    private final int queueIndex;
    private final long requestLimit;
    private final int maxOutstanding;
    private final BlkGuestWorkload.Kicker kicker;

    private final long[] slotGpa;
    private final boolean[] slotFree;
    private final int[] slotOfId;
    private final boolean[] idOutstanding;

    private long posted;
    private long completed;
    private long strays;
    private int outstanding;

    SlottedGuestWorkload(final SlottedWorkloadBuilder<?> b, final int slotBytes)
    {
        final long areaGpa = b.areaGpa;
        this.queueIndex = b.queueIndex;
        this.queue = b.queue;
        this.requestLimit = b.requests;
        this.maxOutstanding = Math.min(b.maxOutstanding, queue.size());
        this.kicker = b.kicker;
        final int slots = queue.size();
        slotGpa = new long[slots];
        slotFree = new boolean[slots];
        slotOfId = new int[slots];
        idOutstanding = new boolean[slots];
        for (int i = 0; i < slots; i++)
        {
            slotGpa[i] = areaGpa + (long)i * slotBytes;
            slotFree[i] = true;
        }
    }

    /**
     * Builds one request in a free slot and adds its chain (see {@link #track}); false if nothing
     * was posted this time (no free slot or range, or the queue is full).
     */
    abstract boolean postOne();

    /** Checks the answer of the request in {@code slot}, already freed and counted as completed. */
    abstract void onCompleted(int slot, int length);

    public final int doWork()
    {
        int work = queue.reap(this);
        boolean added = false;
        while (outstanding < maxOutstanding && (requestLimit <= 0 || posted < requestLimit))
        {
            if (!postOne())
            {
                break;
            }
            added = true;
            work++;
        }
        if (added)
        {
            queue.publish();
            if (queue.needsKick())
            {
                kicker.kick(queueIndex);
            }
        }
        return work;
    }

    public final void onUsed(final int id, final int length)
    {
        if (id < 0 || id >= idOutstanding.length || !idOutstanding[id])
        {
            strays++;
            return;
        }
        idOutstanding[id] = false;
        final int slot = slotOfId[id];
        slotFree[slot] = true;
        outstanding--;
        completed++;
        onCompleted(slot, length);
    }

    /** The lowest free slot, or -1. */
    final int freeSlot()
    {
        for (int i = 0; i < slotFree.length; i++)
        {
            if (slotFree[i])
            {
                return i;
            }
        }
        return -1;
    }

    final long slotGpa(final int slot)
    {
        return slotGpa[slot];
    }

    /** Records that chain {@code id}, just added, carries the request built in {@code slot}. */
    final void track(final int id, final int slot)
    {
        if (idOutstanding[id])
        {
            throw new IllegalStateException("driver model returned an id that is still outstanding: " + id);
        }
        slotFree[slot] = false;
        slotOfId[id] = slot;
        idOutstanding[id] = true;
        posted++;
        outstanding++;
    }

    /** Number of chain ids, for walking them with {@link #outstandingSlot}. */
    final int idCount()
    {
        return idOutstanding.length;
    }

    /** The slot of chain {@code id} if it is still owed a completion, else -1. */
    final int outstandingSlot(final int id)
    {
        return idOutstanding[id] ? slotOfId[id] : -1;
    }

    final int queueIndex()
    {
        return queueIndex;
    }

    public final boolean isFinished()
    {
        return requestLimit > 0 && posted >= requestLimit && outstanding == 0;
    }

    public final long posted()
    {
        return posted;
    }

    public final long completed()
    {
        return completed;
    }

    /** Completions for ids the guest had not posted or had already seen completed (duplicates). */
    public final long strays()
    {
        return strays + queue.deviceFaults();
    }

    /** Requests posted and not completed: at the end of a quiesced run, these were lost. */
    public final int outstanding()
    {
        return outstanding;
    }
}
