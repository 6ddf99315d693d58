package dev.braid.perf.aggregator;

import dev.braid.perf.blk.SlottedBlkGuest;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_IN;
import static dev.braid.virtio.blk.VirtioBlk.VIRTIO_BLK_T_OUT;

/**
 * A light virtio-blk guest for benchmarks: it keeps {@code depth} requests of a fixed size posted
 * and reposts each one as soon as it is reaped. Unlike the aggregator's checking guest it does not
 * fill or verify data: a slot's header (type and sector) is written once, and a repost only adds
 * the (header, data, status) chain again. Slots alternate reads and writes on disjoint sectors.
 *
 * <p>It counts completions, bytes and error statuses. An optional {@link Watch} sees every
 * completion (the failover harness uses it to time replays). Nothing allocates after construction.
 */
public final class LeanBlkGuest extends SlottedBlkGuest
{
    /** Sees each completion as the guest reaps it. */
    @FunctionalInterface
    public interface Watch
    {
        void onCompleted(int id, int status);
    }

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
        super(queue, memory, areaGpa, requestBytes, depth);
        final int sectors = requestBytes / 512;
        for (int s = 0; s < depth; s++)
        {
            final long header = header(s);
            memory.putInt(header, (s & 1) == 0 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT);
            memory.putInt(header + 4, 0);
            memory.putLong(header + 8, firstSector + (long)s * sectors);
        }
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

    /** The header is written once: even slots read, odd slots write. */
    protected boolean prepare(final int slot)
    {
        return (slot & 1) == 0;
    }

    protected void onCompleted(final int slot, final int id, final int status)
    {
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
}
