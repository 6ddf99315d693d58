package dev.braid.perf.aggregator;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.UsedConsumer;
import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.Agent;

/**
 * A light virtio-blk guest for benchmarks: it keeps {@code depth} requests of a fixed size posted
 * and reposts each one as soon as it is reaped. Unlike the aggregator's checking guest it does not
 * fill or verify data: a slot's header (type and sector) is written once, and a repost only adds
 * the (header, data, status) chain again. Slots alternate reads and writes on disjoint sectors.
 *
 * <p>It counts completions, bytes and error statuses. An optional {@link Watch} sees every
 * completion (the failover harness uses it to time replays). Nothing allocates after construction.
 */
public final class LeanBlkGuest implements Agent, UsedConsumer
{
    private static final int HEADER = 16;
    private static final int T_IN = 0;
    private static final int T_OUT = 1;

    /** Sees each completion as the guest reaps it. */
    @FunctionalInterface
    public interface Watch
    {
        void onCompleted(int id, int status);
    }

    private final DriverQueue queue;
    private final GuestMemory memory;
    private final int requestBytes;
    private final long[] slotGpa;
    private final int[] slotOfId;
    private final int[] freeSlots;
    private final BufferChain chain = new BufferChain(3);
    private int freeCount;
    private Watch watch;

    private long completed;
    private long bytes;
    private long errors;

    /**
     * @param areaGpa     start of the guest memory the slots may use: {@code depth * slotBytes(requestBytes)}.
     * @param firstSector first sector of the disjoint range the slots use: {@code depth * requestBytes / 512}.
     */
    public LeanBlkGuest(
        final DriverQueue queue, final GuestMemory memory, final long areaGpa, final long firstSector,
        final int requestBytes, final int depth)
    {
        if (depth > queue.size() / 3)
        {
            throw new IllegalArgumentException("depth " + depth + " needs " + depth * 3 + " descriptors");
        }
        this.queue = queue;
        this.memory = memory;
        this.requestBytes = requestBytes;
        slotGpa = new long[depth];
        slotOfId = new int[queue.size()];
        freeSlots = new int[depth];
        final int slotBytes = slotBytes(requestBytes);
        final int sectors = requestBytes / 512;
        for (int s = 0; s < depth; s++)
        {
            final long gpa = areaGpa + (long)s * slotBytes;
            slotGpa[s] = gpa;
            final long header = gpa + requestBytes;
            memory.putInt(header, (s & 1) == 0 ? T_IN : T_OUT);
            memory.putInt(header + 4, 0);
            memory.putLong(header + 8, firstSector + (long)s * sectors);
            freeSlots[freeCount++] = s;
        }
    }

    /** Guest memory of one slot: data (page aligned), header, status, rounded to a page. */
    public static int slotBytes(final int requestBytes)
    {
        return (requestBytes + HEADER + 1 + 4095) & ~4095;
    }

    public LeanBlkGuest watch(final Watch watch)
    {
        this.watch = watch;
        return this;
    }

    public String roleName()
    {
        return "lean-blk-guest";
    }

    public int doWork()
    {
        int work = queue.reap(this);
        boolean added = false;
        while (freeCount > 0)
        {
            final int slot = freeSlots[freeCount - 1];
            final long data = slotGpa[slot];
            final long header = data + requestBytes;
            chain.clear();
            chain.readable(header, HEADER);
            if ((slot & 1) == 0)
            {
                chain.writable(data, requestBytes);
            }
            else
            {
                chain.readable(data, requestBytes);
            }
            chain.writable(header + HEADER, 1);
            final int id = queue.addChain(chain, false);
            if (id < 0)
            {
                break;
            }
            freeCount--;
            slotOfId[id] = slot;
            added = true;
            work++;
        }
        if (added)
        {
            queue.publish();
            // A device driven by polling ignores kicks, but a real driver asks: keep its cost.
            queue.needsKick();
        }
        return work;
    }

    public void onUsed(final int id, final int len)
    {
        final int slot = slotOfId[id];
        freeSlots[freeCount++] = slot;
        final int status = memory.getByte(slotGpa[slot] + requestBytes + HEADER) & 0xFF;
        completed++;
        if (status == 0)
        {
            bytes += requestBytes;
        }
        else
        {
            errors++;
        }
        if (watch != null)
        {
            watch.onCompleted(id, status);
        }
    }

    public long completed()
    {
        return completed;
    }

    /** Bytes of requests completed with status OK. */
    public long bytes()
    {
        return bytes;
    }

    public long errors()
    {
        return errors;
    }

    /** Requests posted and not reaped. */
    public int outstanding()
    {
        return freeSlots.length - freeCount;
    }
}
