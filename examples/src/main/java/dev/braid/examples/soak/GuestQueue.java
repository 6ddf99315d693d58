package dev.braid.examples.soak;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.ForwardingDriverQueue;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.NanoClock;

/**
 * The guest's queue as the soak rig sees it: a {@link DriverQueue} that a guest workload drives,
 * with a gate (after {@link #stopPosting()} it refuses new chains, so the workload quiesces on its
 * own) and a guest-side latency tap (post to reap, including any failover stall).
 *
 * <p>Owned by the guest's thread like the queue it wraps. {@link #completed()} and {@link #posted()}
 * are single-writer volatiles, so the progress line may read them from another thread.
 */
public final class GuestQueue extends ForwardingDriverQueue
{
    private final NanoClock clock;
    private final long[] postedAt;
    private final Histogram latency = new Histogram(60_000_000_000L, 3);
    private volatile boolean stopped;
    private volatile long posted;
    private volatile long completed;

    public GuestQueue(final DriverQueue inner, final NanoClock clock)
    {
        super(inner);
        this.clock = clock;
        this.postedAt = new long[inner.size()];
    }

    /** From now on no new chain is accepted; completions are still reaped. Any thread. */
    public void stopPosting()
    {
        stopped = true;
    }

    public long posted()
    {
        return posted;
    }

    public long completed()
    {
        return completed;
    }

    /** Guest-side latency in clock nanos. Read it only once the guest has stopped. */
    public Histogram latency()
    {
        return latency;
    }

    public int addChain(final BufferChain chain, final boolean indirect)
    {
        if (stopped)
        {
            return NO_ROOM;
        }
        return posted(inner.addChain(chain, indirect));
    }

    public int addBuffer(final long gpa, final int length, final boolean deviceWritable)
    {
        if (stopped)
        {
            return NO_ROOM;
        }
        return posted(inner.addBuffer(gpa, length, deviceWritable));
    }

    private int posted(final int id)
    {
        if (id >= 0 && id < postedAt.length)
        {
            postedAt[id] = Math.max(1, clock.nanoTime());
            posted = posted + 1;
        }
        return id;
    }

    protected void observeUsed(final int id, final int len)
    {
        if (id >= 0 && id < postedAt.length && postedAt[id] != 0)
        {
            latency.recordValue(Math.min(60_000_000_000L, Math.max(0, clock.nanoTime() - postedAt[id])));
            postedAt[id] = 0;
            completed = completed + 1;
        }
    }

}
