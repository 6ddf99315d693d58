package dev.braid.aggregator.blk;

import dev.braid.aggregator.ControlHandler;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.memory.GuestMemory;

/**
 * Probes a block card that is coming back with a one-sector read into Braid's own bounce memory,
 * never into the guest's: a probe must not be able to corrupt anything if the card misbehaves.
 * Slot = card index. The control plane reads only the card status (OK passes).
 */
public final class BlkProbeHandler implements ControlHandler<BlockCard>
{
    private final BlockIo[] probes;

    public BlkProbeHandler(final int maxCards)
    {
        final GuestMemory bounce = GuestMemory.allocate((long)maxCards * BlockIo.SECTOR_SIZE);
        probes = new BlockIo[maxCards];
        for (int card = 0; card < maxCards; card++)
        {
            probes[card] = new BlockIo(1);
            probes[card].data().reset(bounce);
            probes[card].data().add((long)card * BlockIo.SECTOR_SIZE, BlockIo.SECTOR_SIZE);
            probes[card].set(BlockIo.READ, 0);
        }
    }

    public boolean submit(final BlockCard card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        return card.submit(cardQueue, probes[slot], token, sink);
    }
}
