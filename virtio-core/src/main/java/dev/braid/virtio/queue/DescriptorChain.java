package dev.braid.virtio.queue;

/**
 * One popped descriptor chain, as segment lists over guest-physical memory. Nothing is copied:
 * segments are (guest-physical address, length) pairs, already validated to lie inside guest
 * memory. Device-readable segments come first, then device-writable ones.
 *
 * <p>A chain object is preallocated and reused for every pop; it is owned by one thread.
 */
public final class DescriptorChain
{
    private final long[] addresses;
    private final int[] lengths;
    private int segmentCount;
    private int readableCount;
    private long readableBytes;
    private long writableBytes;
    private int id;
    private int descriptorCount;

    /** @param maxSegments the most segments a chain may have; the queue size is always enough. */
    public DescriptorChain(final int maxSegments)
    {
        if (maxSegments <= 0)
        {
            throw new IllegalArgumentException("maxSegments must be positive: " + maxSegments);
        }
        addresses = new long[maxSegments];
        lengths = new int[maxSegments];
    }

    /** The buffer id the device completes: the head index (split) or the buffer id (packed). */
    public int id()
    {
        return id;
    }

    /** Ring slots the chain used (packed: how far the ring advances); 1 for an indirect chain. */
    public int descriptorCount()
    {
        return descriptorCount;
    }

    public int segmentCount()
    {
        return segmentCount;
    }

    public int readableCount()
    {
        return readableCount;
    }

    public int writableCount()
    {
        return segmentCount - readableCount;
    }

    public long readableBytes()
    {
        return readableBytes;
    }

    public long writableBytes()
    {
        return writableBytes;
    }

    public long address(final int segment)
    {
        return addresses[segment];
    }

    public int length(final int segment)
    {
        return lengths[segment];
    }

    public boolean isWritable(final int segment)
    {
        return segment >= readableCount;
    }

    /** Capacity of this chain object. */
    public int maxSegments()
    {
        return addresses.length;
    }

    // ---------------------------------------------------------------- for queue implementations

    /** Starts a new chain; called by a queue before it walks descriptors. */
    public void reset(final int id)
    {
        this.id = id;
        segmentCount = 0;
        readableCount = 0;
        readableBytes = 0;
        writableBytes = 0;
        descriptorCount = 0;
    }

    public void id(final int id)
    {
        this.id = id;
    }

    public void descriptorCount(final int descriptorCount)
    {
        this.descriptorCount = descriptorCount;
    }

    /**
     * Appends a segment. Returns false when the chain is full or a readable segment follows a
     * writable one; the queue turns that into a chain error. Zero-length segments are skipped.
     */
    public boolean add(final long address, final int length, final boolean writable)
    {
        if (!writable && readableCount != segmentCount)
        {
            return false;
        }
        if (length == 0)
        {
            return true;
        }
        if (segmentCount == addresses.length)
        {
            return false;
        }
        addresses[segmentCount] = address;
        lengths[segmentCount] = length;
        segmentCount++;
        if (writable)
        {
            writableBytes += length & 0xFFFF_FFFFL;
        }
        else
        {
            readableCount++;
            readableBytes += length & 0xFFFF_FFFFL;
        }
        return true;
    }

    /** Whether {@link #add} refused because of ordering, to pick the right chain error. */
    public boolean wouldBreakOrder(final boolean writable)
    {
        return !writable && readableCount != segmentCount;
    }
}
