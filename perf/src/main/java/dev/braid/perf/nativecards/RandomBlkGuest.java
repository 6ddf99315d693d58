package dev.braid.perf.nativecards;

import java.util.SplittableRandom;

import org.HdrHistogram.Histogram;
import org.agrona.concurrent.Agent;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.UsedConsumer;
import dev.braid.virtio.memory.GuestMemory;

/**
 * A fio-like virtio-blk guest: keeps {@code depth} requests of {@code requestBytes} posted, each at a
 * uniformly random aligned offset of the disk (as fio's {@code randread}/{@code randwrite} with
 * {@code norandommap}), and reposts each as soon as it is reaped. It records every request's
 * completion latency (posted to reaped, as fio's clat) in an HdrHistogram. Nothing allocates after
 * construction.
 */
public final class RandomBlkGuest implements Agent, UsedConsumer
{
    private static final int HEADER = 16;
    private static final int T_IN = 0;
    private static final int T_OUT = 1;

    private final DriverQueue queue;
    private final GuestMemory memory;
    private final int requestBytes;
    private final boolean write;
    private final long blocks;
    private final SplittableRandom random;
    private final long[] slotGpa;
    private final long[] postedAt;
    private final int[] slotOfId;
    private final int[] freeSlots;
    private final BufferChain chain = new BufferChain(3);
    private final Histogram latency = new Histogram(1_000_000_000L, 3);
    private int freeCount;
    private boolean recording;

    private long completed;
    private long errors;

    public RandomBlkGuest(
        final DriverQueue queue, final GuestMemory memory, final long areaGpa, final long diskBytes,
        final int requestBytes, final int depth, final boolean write, final long seed)
    {
        if (depth * 3 > queue.size())
        {
            throw new IllegalArgumentException("depth " + depth + " needs " + depth * 3 + " descriptors");
        }
        this.queue = queue;
        this.memory = memory;
        this.requestBytes = requestBytes;
        this.write = write;
        this.blocks = diskBytes / requestBytes;
        this.random = new SplittableRandom(seed);
        slotGpa = new long[depth];
        postedAt = new long[depth];
        slotOfId = new int[queue.size()];
        freeSlots = new int[depth];
        for (int s = 0; s < depth; s++)
        {
            slotGpa[s] = areaGpa + (long)s * slotBytes(requestBytes);
            memory.putInt(slotGpa[s] + requestBytes, write ? T_OUT : T_IN);
            memory.putInt(slotGpa[s] + requestBytes + 4, 0);
            freeSlots[freeCount++] = s;
        }
    }

    /** Guest memory of one slot: data (page aligned), header, status, rounded to a page. */
    public static int slotBytes(final int requestBytes)
    {
        return (requestBytes + HEADER + 1 + 4095) & ~4095;
    }

    @Override
    public String roleName()
    {
        return "random-blk-guest";
    }

    @Override
    public int doWork()
    {
        int work = queue.reap(this);
        boolean added = false;
        final long now = System.nanoTime();
        while (freeCount > 0)
        {
            final int slot = freeSlots[freeCount - 1];
            final long data = slotGpa[slot];
            final long header = data + requestBytes;
            memory.putLong(header + 8, random.nextLong(blocks) * (requestBytes / 512));
            chain.clear();
            chain.readable(header, HEADER);
            if (write)
            {
                chain.readable(data, requestBytes);
            }
            else
            {
                chain.writable(data, requestBytes);
            }
            chain.writable(header + HEADER, 1);
            final int id = queue.addChain(chain, false);
            if (id < 0)
            {
                break;
            }
            freeCount--;
            slotOfId[id] = slot;
            postedAt[slot] = now;
            added = true;
            work++;
        }
        if (added)
        {
            queue.publish();
            queue.needsKick();
        }
        return work;
    }

    @Override
    public void onUsed(final int id, final int len)
    {
        final int slot = slotOfId[id];
        freeSlots[freeCount++] = slot;
        final int status = memory.getByte(slotGpa[slot] + requestBytes + HEADER) & 0xFF;
        if (recording)
        {
            completed++;
            if (status != 0)
            {
                errors++;
            }
            latency.recordValue(Math.min(System.nanoTime() - postedAt[slot], latency.getHighestTrackableValue()));
        }
    }

    /** Starts a measured window: counters and histogram from zero. */
    public void startRecording()
    {
        completed = 0;
        errors = 0;
        latency.reset();
        recording = true;
    }

    public void stopRecording()
    {
        recording = false;
    }

    public long completed()
    {
        return completed;
    }

    public long errors()
    {
        return errors;
    }

    public Histogram latency()
    {
        return latency;
    }

    public int outstanding()
    {
        return freeSlots.length - freeCount;
    }
}
