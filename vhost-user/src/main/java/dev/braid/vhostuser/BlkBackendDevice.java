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
 * over the given cards; GET_ID answers the given serial, or the device's default.
 */
public final class BlkBackendDevice extends TransportBackendDevice<BlockCard, VirtioBlkDevice>
{
    private final String serial;

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
        this(cards, maxQueues, maxQueueSize, agentThreads, aggregation, null);
    }

    /**
     * @param serial what GET_ID answers (at most 20 ASCII characters: the guest's
     *               {@code /sys/block/vdX/serial}), or null for the device's default.
     */
    public BlkBackendDevice(final List<BlockCard> cards, final int maxQueues, final int maxQueueSize,
        final int agentThreads, final Aggregation aggregation, final String serial)
    {
        super(new BackendSettings<>("blk", cards, maxQueues, 256, "queues", maxQueueSize, agentThreads, aggregation),
            maxQueues, 0);
        this.serial = serial;
        // Fails here, not at the guest's DRIVER_OK, when the serial is not one.
        context(GuestMemory.allocate(4096), maxQueues, null).conclude();
    }

    /** The serial GET_ID answers; null: the device's default. */
    public String serial()
    {
        return serial;
    }

    VirtioBlkDevice newDevice(final GuestMemory memory, final int rings, final IntConsumer calls)
    {
        return new VirtioBlkDevice(context(memory, rings, calls));
    }

    // Also called by the super constructor, before serial is set: the config view needs no serial.
    private VirtioBlkDevice.Context context(final GuestMemory memory, final int rings, final IntConsumer calls)
    {
        final VirtioBlkDevice.Context context = configure(new VirtioBlkDevice.Context().queueCount(rings), memory, calls);
        return serial == null ? context : context.serial(serial);
    }

    ActiveRings activeRings(final VirtioBlkDevice blk)
    {
        return new ActiveRings(blk);
    }
}
