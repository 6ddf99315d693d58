package dev.braid.sim;

import dev.braid.virtio.card.IoVector;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The medium behind every simulated disk and HBA of one device: one logical disk that any card can
 * serve, so a request replayed on another card finds the same data.
 *
 * <p>Each sector also carries a version tag: the sequence number of the last write that reached it.
 * Tests use the tags to check "a read returns the last completed write" without trusting the data
 * path. Thread-safe for concurrent sector access the way a real disk is: writes to different sectors
 * do not interfere; concurrent writes to one sector leave one of them.
 */
public final class SharedBlockStore
{
    public static final int SECTOR_SIZE = 512;

    private final long sectors;
    private final UnsafeBuffer data;
    private final AtomicLongArray versions;
    private final AtomicLong versionCounter = new AtomicLong();

    public SharedBlockStore(final long sectors)
    {
        if (sectors <= 0 || sectors * SECTOR_SIZE > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("sim store size must be 1.." + (Integer.MAX_VALUE / SECTOR_SIZE) +
                " sectors: " + sectors);
        }
        this.sectors = sectors;
        this.data = new UnsafeBuffer(BufferUtil.allocateDirectAligned((int)(sectors * SECTOR_SIZE), 4096));
        this.versions = new AtomicLongArray((int)sectors);
    }

    public long sectors()
    {
        return sectors;
    }

    public boolean inRange(final long sector, final long count)
    {
        return sector >= 0 && count >= 0 && sector <= sectors - count;
    }

    /** Copies {@code bytes} from the store at {@code sector} into the guest vector (DMA to guest). */
    public void read(final long sector, final IoVector into, final long bytes)
    {
        copy(sector, into, bytes, true);
    }

    /** Copies from the guest vector into the store (DMA from guest), tagging each sector with {@code version}. */
    public void write(final long sector, final IoVector from, final long bytes, final long version)
    {
        copy(sector, from, bytes, false);
        tag(sector, (bytes + SECTOR_SIZE - 1) / SECTOR_SIZE, version);
    }

    // One walk over the vector's segments for both directions, as IoVector's own copy.
    private void copy(final long sector, final IoVector vector, final long bytes, final boolean toGuest)
    {
        long offset = sector * SECTOR_SIZE;
        long remaining = bytes;
        for (int i = 0; i < vector.count() && remaining > 0; i++)
        {
            final int chunk = (int)Math.min(remaining, vector.length(i) & 0xFFFF_FFFFL);
            if (toGuest)
            {
                vector.memory().putBytes(vector.address(i), data, (int)offset, chunk);
            }
            else
            {
                vector.memory().getBytes(vector.address(i), data, (int)offset, chunk);
            }
            offset += chunk;
            remaining -= chunk;
        }
    }

    /** Zeroes a range (discard, write-zeroes). */
    public void zero(final long sector, final long count, final long version)
    {
        data.setMemory((int)(sector * SECTOR_SIZE), (int)(count * SECTOR_SIZE), (byte)0);
        tag(sector, count, version);
    }

    /**
     * The next write version for this store: one counter for every card over it, so versions are
     * globally monotonic in the order writes reach the medium.
     */
    public long nextVersion()
    {
        return versionCounter.incrementAndGet();
    }

    /** The last version handed out by {@link #nextVersion()} (0 before any write). */
    public long lastVersion()
    {
        return versionCounter.get();
    }

    public long version(final long sector)
    {
        return versions.get((int)sector);
    }

    /** Direct access to the bytes, for tests and for cards that copy themselves. */
    public UnsafeBuffer data()
    {
        return data;
    }

    private void tag(final long sector, final long count, final long version)
    {
        for (long s = sector; s < sector + count; s++)
        {
            versions.set((int)s, version);
        }
    }
}
