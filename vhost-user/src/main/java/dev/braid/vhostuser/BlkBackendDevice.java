package dev.braid.vhostuser;

import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.ha.Aggregation;
import dev.braid.mapper.SelectorKind;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.memory.GuestMemory;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * virtio-blk behind vhost-user: each start builds a {@link VirtioBlkDevice} over the front end's
 * memory and plays the virtio transport for it ({@link TransportBackendDevice}); vhost-user ring q
 * is the device's queue q. Active-active queue-affine by default, or the given {@link Aggregation},
 * over the given cards.
 */
public final class BlkBackendDevice extends TransportBackendDevice<BlockCard, VirtioBlkDevice>
{
    /**
     * @param agentThreads threads the device's agents share while it runs.
     */
    public BlkBackendDevice(final List<BlockCard> cards, final int maxQueues, final int maxQueueSize, final int agentThreads)
    {
        this(cards, maxQueues, maxQueueSize, agentThreads, Aggregation.activeActive(SelectorKind.QUEUE_AFFINE));
    }

    /**
     * @param aggregation how the cards share the guest's queues (active-active or active-passive).
     */
    public BlkBackendDevice(final List<BlockCard> cards, final int maxQueues, final int maxQueueSize,
        final int agentThreads, final Aggregation aggregation)
    {
        super(new BackendSettings<>("blk", cards, maxQueues, 256, "queues", maxQueueSize, agentThreads, aggregation),
            maxQueues, 0);
    }

    VirtioBlkDevice newDevice(final GuestMemory memory, final int rings, final IntConsumer calls)
    {
        return new VirtioBlkDevice(configure(new VirtioBlkDevice.Context().queueCount(rings), memory, calls));
    }

    ActiveRings activeRings(final VirtioBlkDevice blk)
    {
        return new ActiveRings(blk);
    }
}
