package dev.braid.perf.aggregator;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.ha.Aggregation;
import dev.braid.ha.HealthConfig;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.BandwidthCap;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.card.BlockCard;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

/**
 * One virtio-blk guest queue (split ring, EVENT_IDX) with a {@link LeanBlkGuest}, served either by
 * an {@link AggregatedDevice} over several {@link SimDisk}s (request spray, least outstanding) or
 * by a {@link DirectBlkDevice} over one SimDisk. The benchmarks and harnesses of this package share it.
 */
public final class BlkBenchRig
{
    /** What to build. */
    public static final class Options
    {
        public int cards = 1;
        public int queueSize = 256;
        public int depth = 64;
        public int requestBytes = 4096;
        public int cardQueueDepth = 256;
        public NanoClock clock;
        public LatencyModel latency = LatencyModel.ZERO;
        /** Makes each card's bandwidth cap; null for none. */
        public Function<Integer, BandwidthCap> bandwidth;
        public HealthConfig health = new HealthConfig();
        /** Wraps each card before the device sees it (the failover harness watches submissions). */
        public Function<SimDisk, BlockCard> wrap = d -> d;
        public long seed = 1;
    }

    public final GuestMemory memory;
    public final SharedBlockStore store;
    public final SimDisk[] disks;
    public final BlockCard[] cards;
    public final SplitDriverQueue driver;
    public final SplitQueue deviceQueue;
    public final LeanBlkGuest guest;
    public final BlkRequestHandler handler;
    private final Options options;

    public BlkBenchRig(final Options options)
    {
        this.options = options;
        final RingLayout layout = RingLayout.split(0, options.queueSize, 4);
        final long area = RingLayout.alignUp(layout.endGpa(), 4096);
        final int slot = LeanBlkGuest.slotBytes(options.requestBytes);
        memory = GuestMemory.allocate(area + (long)slot * options.depth);
        store = new SharedBlockStore((long)options.depth * options.requestBytes / 512);
        disks = new SimDisk[options.cards];
        cards = new BlockCard[options.cards];
        for (int i = 0; i < options.cards; i++)
        {
            disks[i] = SimDisk.builder("disk" + i, store).clock(options.clock).latency(options.latency)
                .bandwidth(options.bandwidth == null ? null : options.bandwidth.apply(i))
                .queues(1, options.cardQueueDepth).seed(options.seed * 31 + i).build();
            cards[i] = options.wrap.apply(disks[i]);
        }
        driver = new SplitDriverQueue(memory, layout, true);
        deviceQueue = new SplitQueue(memory, options.queueSize, layout.descGpa(), layout.availGpa(), layout.usedGpa(),
            true, true);
        guest = new LeanBlkGuest(driver, memory, area, 0, options.requestBytes, options.depth);
        handler = new BlkRequestHandler(memory, new BlkRequestParser().capacity(store.sectors()), options.queueSize,
            16, "braid-perf".getBytes(StandardCharsets.US_ASCII));
    }

    /** The aggregated device over every card; its agents are not started. */
    public AggregatedDevice<BlockCard> aggregated()
    {
        return VirtioBlkDevice.aggregate(new VirtioBlkDevice.Context().memory(memory).cards(List.of(cards))
            .maxSegments(16).aggregation(Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING))
            .health(options.health).clock(options.clock).seed(options.seed),
            new DeviceQueue[] {deviceQueue}, VirtioBlkDevice.offeredFeatures());
    }

    /** The baseline without aggregation: the guest queue served by the first card alone. */
    public DirectBlkDevice direct()
    {
        return new DirectBlkDevice(deviceQueue, handler, cards[0], options.queueSize, 64);
    }

    /** The guest followed by every agent of the device, in its stable order. */
    public static Agent[] loop(final LeanBlkGuest guest, final List<Agent> deviceAgents)
    {
        final Agent[] agents = new Agent[deviceAgents.size() + 1];
        agents[0] = guest;
        for (int i = 0; i < deviceAgents.size(); i++)
        {
            agents[i + 1] = deviceAgents.get(i);
        }
        return agents;
    }
}
