package dev.braid.aggregator;

import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.queue.DescriptorChain;

/** Hands a byte range of a descriptor chain to a card as guest addresses: no copy, no allocation. */
public final class ChainGather
{
    private ChainGather()
    {
    }

    /**
     * Adds {@code length} chain bytes from ({@code firstSegment}, {@code firstOffset}) on to {@code out}.
     * False when the chain ends first or the vector is full.
     */
    public static boolean gather(
        final DescriptorChain chain, final int firstSegment, final int firstOffset, final long length, final IoVector out)
    {
        long remaining = length;
        int segment = firstSegment;
        long offset = firstOffset;
        while (remaining > 0 && segment < chain.segmentCount())
        {
            final long take = Math.min((chain.length(segment) & 0xFFFF_FFFFL) - offset, remaining);
            if (take > 0 && !out.add(chain.address(segment) + offset, (int)take))
            {
                return false;
            }
            remaining -= take;
            segment++;
            offset = 0;
        }
        return remaining == 0;
    }
}
