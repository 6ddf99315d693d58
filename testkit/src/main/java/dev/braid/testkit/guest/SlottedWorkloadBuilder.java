package dev.braid.testkit.guest;

import dev.braid.testkit.driver.DriverQueue;
import dev.braid.virtio.memory.GuestMemory;

/**
 * What the checking block guests (blk, scsi) share: which queue they drive, where their buffers go,
 * the range of blocks they own, and how much and what they ask. Defaults: queue index 0, range from
 * block 0, 8 blocks per request at most, 50% reads, direct and indirect chains, as many outstanding
 * as the queue holds, seed 0, no kick. Required: the queue, the memory, the range's length and
 * the request count. {@code build()} validates and names the first bad value.
 */
public abstract class SlottedWorkloadBuilder<B extends SlottedWorkloadBuilder<B>>
{
    int queueIndex;
    DriverQueue queue;
    GuestMemory memory;
    long areaGpa;
    long first;
    int count;
    int maxPerRequest = 8;
    int readPercent = 50;
    boolean indirect = true;
    long requests = -1;
    int maxOutstanding = Integer.MAX_VALUE;
    long seed;
    BlkGuestWorkload.Kicker kicker = q -> {};

    SlottedWorkloadBuilder()
    {
    }

    /** The queue the guest drives and its index on the device (what the kicker is told). */
    public B queue(final int queueIndex, final DriverQueue queue)
    {
        this.queueIndex = queueIndex;
        this.queue = queue;
        return self();
    }

    public B memory(final GuestMemory memory)
    {
        this.memory = memory;
        return self();
    }

    /** Start of the guest memory for the buffers: {@code queue.size() * slotBytes(...)} bytes. */
    public B areaGpa(final long areaGpa)
    {
        this.areaGpa = areaGpa;
        return self();
    }

    /** The blocks (sectors) this guest owns; guests on other queues use disjoint ranges, so each checks exactly. */
    public B range(final long first, final int count)
    {
        this.first = first;
        this.count = count;
        return self();
    }

    public B maxPerRequest(final int maxPerRequest)
    {
        this.maxPerRequest = maxPerRequest;
        return self();
    }

    public B readPercent(final int readPercent)
    {
        this.readPercent = readPercent;
        return self();
    }

    /** Whether chains may be indirect (chosen at random per request). */
    public B indirect(final boolean indirect)
    {
        this.indirect = indirect;
        return self();
    }

    /** Requests to post; 0 for no limit. */
    public B requests(final long requests)
    {
        this.requests = requests;
        return self();
    }

    /** Requests in flight at most (capped at the queue's size). */
    public B maxOutstanding(final int maxOutstanding)
    {
        this.maxOutstanding = maxOutstanding;
        return self();
    }

    public B seed(final long seed)
    {
        this.seed = seed;
        return self();
    }

    public B kicker(final BlkGuestWorkload.Kicker kicker)
    {
        this.kicker = kicker;
        return self();
    }

    /** Throws with a one-line message naming the first bad value. */
    void validate()
    {
        require(queue != null, "queue must be set");
        require(memory != null, "memory must be set");
        require(kicker != null, "kicker must not be null");
        require(queueIndex >= 0, "queue index must be >= 0: " + queueIndex);
        require(areaGpa >= 0, "areaGpa must be >= 0: " + areaGpa);
        require(first >= 0, "range first must be >= 0: " + first);
        require(count > 0, "range count must be > 0: " + count);
        require(maxPerRequest > 0, "maxPerRequest must be > 0: " + maxPerRequest);
        require(readPercent >= 0 && readPercent <= 100, "readPercent must be 0..100: " + readPercent);
        require(requests >= 0, "requests must be set, >= 0 (0: no limit): " + requests);
        require(maxOutstanding > 0, "maxOutstanding must be > 0: " + maxOutstanding);
    }

    static void require(final boolean ok, final String message)
    {
        if (!ok)
        {
            throw new IllegalArgumentException(message);
        }
    }

    @SuppressWarnings("unchecked")
    private B self()
    {
        return (B)this;
    }
}
