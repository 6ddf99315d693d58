package dev.braid.aggregator;

import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.virtio.blk.BlkDescriptor;
import dev.braid.virtio.blk.VirtioBlk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.ForwardingBlockCard;
import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A card that takes requests of at most N bytes (an NBD server's maximum payload): the blk device
 * advertises size_max and seg_max whose product stays within the smallest card's limit, so a guest
 * that keeps to them never sends one the card must refuse.
 */
class BlkTransferLimitTest
{
    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final SharedBlockStore store = new SharedBlockStore(1024);

    private BlockCard limited(final String name, final long max)
    {
        return new ForwardingBlockCard(SimDisk.builder(name, store).build())
        {
            public long maxTransferBytes()
            {
                return max;
            }
        };
    }

    private VirtioBlkDevice device(final BlockCard... cards)
    {
        return new VirtioBlkDevice(new VirtioBlkDevice.Context().memory(memory).cards(List.of(cards)));
    }

    private static long sizeMax(final VirtioBlkDevice d)
    {
        return d.readConfig(BlkDescriptor.CFG_SIZE_MAX_OFFSET, 4);
    }

    private static long segMax(final VirtioBlkDevice d)
    {
        return d.readConfig(BlkDescriptor.CFG_SEG_MAX_OFFSET, 4);
    }

    @Test
    void sizeMaxIsOffered()
    {
        assertNotEquals(0, VirtioBlkDevice.offeredFeatures() & 1L << VirtioBlk.VIRTIO_BLK_F_SIZE_MAX);
    }

    @Test
    void cardsWithoutALimitLeaveTheSegmentsUnbounded()
    {
        final VirtioBlkDevice d = device(SimDisk.builder("a", store).build(), SimDisk.builder("b", store).build());
        assertEquals(0xFFFF_FFFFL, sizeMax(d));
        assertEquals(VirtioBlkDevice.SEG_MAX, segMax(d));
    }

    @Test
    void theSmallestCardsLimitBoundsEveryRequest()
    {
        for (final long max : new long[] {4096, 65536, 100_000, 1 << 20, 32L << 20, 1L << 30})
        {
            final VirtioBlkDevice d = device(limited("a", 1L << 30), limited("b", max));
            final long size = sizeMax(d);
            final long segs = segMax(d);
            assertTrue(size >= 4096 && size % 4096 == 0, max + ": size_max " + size);
            assertTrue(segs >= 1 && segs <= VirtioBlkDevice.SEG_MAX, max + ": seg_max " + segs);
            assertTrue(size * segs <= max, max + ": size_max " + size + " x seg_max " + segs + " exceeds the card");
            // Not needlessly small: within one page per segment of the limit.
            assertTrue(size * segs > max - 4096 * segs || segs == VirtioBlkDevice.SEG_MAX && size == 4096 * (max / 4096 / segs),
                max + ": size_max " + size + " x seg_max " + segs + " wastes the card's limit");
        }
    }

    @Test
    void aCardThatTakesLessThanAPageIsRefused()
    {
        final String why = assertThrows(IllegalArgumentException.class, () -> device(limited("a", 2048))).getMessage();
        assertTrue(why.contains("2048"), why);
    }
}
