package dev.braid.perf.nativecards;

import java.util.List;

import org.agrona.concurrent.Agent;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.ha.Aggregation;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;

/**
 * What the native-card comparisons run on one thread, as fio's one job: a {@link RandomBlkGuest}
 * and the aggregated virtio-blk device it drives over {@code cards} (active-active, least
 * outstanding; one split queue with EVENT_IDX, the next power of two above {@code depth} chains of
 * three). {@link #agents} holds the guest first, then every agent of the device, all started.
 */
final class RandomBlkLoop
{
    final RandomBlkGuest guest;
    final Agent[] agents;

    /**
     * @param diskBytes         the disk the guest spreads its requests over.
     * @param completionTimeout nanoseconds before the device calls a card's request lost.
     * @param cardWaitNanos     how long the device may wait in a card for a completion (0: never).
     */
    RandomBlkLoop(
        final List<? extends BlockCard> cards, final long diskBytes, final int bs, final int depth, final boolean write,
        final long seed, final long completionTimeout, final long cardWaitNanos)
    {
        final int queueSize = Integer.highestOneBit(depth * 3 - 1) << 1;
        final RingLayout layout = RingLayout.split(0, queueSize, 4);
        final long area = RingLayout.alignUp(layout.endGpa(), 4096);
        final GuestMemory memory = GuestMemory.allocate(area + (long)RandomBlkGuest.slotBytes(bs) * depth);
        final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, true);
        final SplitQueue deviceQueue = new SplitQueue(memory, queueSize, layout.descGpa(), layout.availGpa(),
            layout.usedGpa(), true, true);
        final AggregatedDevice<BlockCard> device = VirtioBlkDevice.aggregate(new VirtioBlkDevice.Context()
            .memory(memory).cards(List.copyOf(cards)).maxSegments(16)
            .aggregation(Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING))
            .health(new HealthConfig().completionTimeoutNanos(completionTimeout)).seed(seed)
            .cardWaitNanos(cardWaitNanos),
            new DeviceQueue[] {deviceQueue}, VirtioBlkDevice.offeredFeatures());
        guest = new RandomBlkGuest(driver, memory, area, diskBytes, bs, depth, write, seed);
        final List<Agent> deviceAgents = device.agents();
        agents = new Agent[deviceAgents.size() + 1];
        agents[0] = guest;
        for (int i = 0; i < deviceAgents.size(); i++)
        {
            agents[i + 1] = deviceAgents.get(i);
        }
        for (final Agent agent : agents)
        {
            agent.onStart();
        }
    }

    /** Closes every agent (the cards stay the caller's). */
    void close()
    {
        for (final Agent agent : agents)
        {
            agent.onClose();
        }
    }
}
