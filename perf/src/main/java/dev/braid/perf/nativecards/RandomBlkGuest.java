package dev.braid.perf.nativecards;

import java.util.SplittableRandom;

import org.HdrHistogram.Histogram;

import dev.braid.perf.blk.SlottedBlkGuest;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_IN;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_OUT;

/**
 * A fio-like virtio-blk guest: keeps {@code depth} requests of {@code requestBytes} posted, each at a
 * uniformly random aligned offset of the disk (as fio's {@code randread}/{@code randwrite} with
 * {@code norandommap}), and reposts each as soon as it is reaped. It records every request's
 * completion latency (posted to reaped, as fio's clat) in an HdrHistogram. Nothing allocates after
 * construction.
 */
public final class RandomBlkGuest extends SlottedBlkGuest
{
    private final boolean write;
    private final long blocks;
    private final SplittableRandom random;
    private final long[] postedAt;
    private final Histogram latency = new Histogram(1_000_000_000L, 3);
    private boolean recording;
    /** When this pass began posting: the posted time of each request it posts. */
    private long now;

    private long completed;
    private long errors;

    public RandomBlkGuest(
        final DriverQueue queue, final GuestMemory memory, final long areaGpa, final long diskBytes,
        final int requestBytes, final int depth, final boolean write, final long seed)
    {
        super(queue, memory, areaGpa, requestBytes, depth);
        this.write = write;
        this.blocks = diskBytes / requestBytes;
        this.random = new SplittableRandom(seed);
        postedAt = new long[depth];
        for (int s = 0; s < depth; s++)
        {
            memory.putInt(header(s), write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
            memory.putInt(header(s) + 4, 0);
        }
    }

    @Override
    public String roleName()
    {
        return "random-blk-guest";
    }

    @Override
    protected void beforePosting()
    {
        now = System.nanoTime();
    }

    @Override
    protected boolean prepare(final int slot)
    {
        memory.putLong(header(slot) + 8, random.nextLong(blocks) * (requestBytes / 512));
        postedAt[slot] = now;
        return !write;
    }

    @Override
    protected void onCompleted(final int slot, final int id, final int status)
    {
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
}
