package dev.braid.aggregator;

/**
 * Ring and table capacities derived from guest-programmed queue sizes. The rings index with a
 * mask, so a capacity is always a power of two; a sum of queue sizes (16 x 256 + slack, 4065 for a
 * packed queue) is not one, and must be rounded up rather than passed on.
 */
final class RingCapacity
{
    /** The largest ring the queue mapper accepts (its RingDescriptor.MAX_CAPACITY). */
    static final int MAX = 1 << 24;

    private RingCapacity()
    {
    }

    /**
     * The smallest power of two that is at least {@code entries} (and at least 2).
     *
     * @throws IllegalArgumentException above {@link #MAX}: a builder given absurd queues. The virtio
     *                                  devices refuse such a guest with NEEDS_RESET before they get here
     *                                  (see {@link AbstractVirtioDevice#MAX_QUEUE_ENTRIES}).
     */
    static int powerOfTwoAtLeast(final long entries)
    {
        if (entries > MAX)
        {
            throw new IllegalArgumentException("ring of " + entries + " entries is above the limit of " + MAX);
        }
        return entries <= 2 ? 2 : Integer.highestOneBit((int)entries - 1) << 1;
    }
}
