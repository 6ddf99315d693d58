package dev.braid.examples.soak;

import dev.braid.virtio.driver.BufferChain;
import dev.braid.virtio.driver.DriverQueue;
import dev.braid.virtio.driver.RingLayout;
import dev.braid.virtio.driver.UsedConsumer;
import dev.braid.virtio.memory.GuestMemory;
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
public final class GuestQueue implements DriverQueue, UsedConsumer
{
    private final DriverQueue inner;
    private final NanoClock clock;
    private final long[] postedAt;
    private final Histogram latency = new Histogram(60_000_000_000L, 3);
    private UsedConsumer downstream;
    private volatile boolean stopped;
    private volatile long posted;
    private volatile long completed;

    public GuestQueue(final DriverQueue inner, final NanoClock clock)
    {
        this.inner = inner;
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

    public int size()
    {
        return inner.size();
    }

    public boolean eventIdx()
    {
        return inner.eventIdx();
    }

    public RingLayout layout()
    {
        return inner.layout();
    }

    public GuestMemory memory()
    {
        return inner.memory();
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

    public void publish()
    {
        inner.publish();
    }

    public boolean needsKick()
    {
        return inner.needsKick();
    }

    public int reap(final UsedConsumer consumer)
    {
        downstream = consumer;
        return inner.reap(this);
    }

    public int reap(final UsedConsumer consumer, final int limit)
    {
        downstream = consumer;
        return inner.reap(this, limit);
    }

    public void onUsed(final int id, final int len)
    {
        if (id >= 0 && id < postedAt.length && postedAt[id] != 0)
        {
            latency.recordValue(Math.min(60_000_000_000L, Math.max(0, clock.nanoTime() - postedAt[id])));
            postedAt[id] = 0;
            completed = completed + 1;
        }
        downstream.onUsed(id, len);
    }

    public boolean hasPendingUsed()
    {
        return inner.hasPendingUsed();
    }

    public void enableInterrupts()
    {
        inner.enableInterrupts();
    }

    public void disableInterrupts()
    {
        inner.disableInterrupts();
    }

    public void interruptAfter(final int n)
    {
        inner.interruptAfter(n);
    }

    public int numFree()
    {
        return inner.numFree();
    }

    public int inFlight()
    {
        return inner.inFlight();
    }

    public int deviceFaults()
    {
        return inner.deviceFaults();
    }

    public int lastDeviceFault()
    {
        return inner.lastDeviceFault();
    }

    public boolean broken()
    {
        return inner.broken();
    }

    public void reset()
    {
        inner.reset();
    }
}
