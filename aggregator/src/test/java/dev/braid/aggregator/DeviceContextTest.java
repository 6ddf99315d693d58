package dev.braid.aggregator;

import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.aggregator.net.VirtioNetDevice;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.ha.Aggregation;
import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.Failback;
import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.VirtualClock;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/** The contexts conclude once, name the bad value in one line, and leave no ordering trap. */
class DeviceContextTest
{
    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final SharedBlockStore store = new SharedBlockStore(1024);
    private final List<BlockCard> disks = List.of(SimDisk.builder("a", store).build(), SimDisk.builder("b", store).build());

    private VirtioBlkDevice.Context blk()
    {
        return new VirtioBlkDevice.Context().memory(memory).cards(disks);
    }

    private static String refusal(final Supplier<?> build)
    {
        return assertThrows(IllegalArgumentException.class, build::get).getMessage();
    }

    @Test
    void defaultsAreFilledByConclude()
    {
        final VirtioBlkDevice.Context context = blk().conclude();
        assertEquals(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE), context.aggregation());
        assertEquals(8, context.maxCards());
        assertEquals(1024, context.capacitySectors());
        assertEquals(VirtioBlkDevice.SEG_MAX, context.maxSegments());
        assertEquals(1, new VirtioBlkDevice(context).core().queueCount());
    }

    @Test
    void eachBadValueIsNamedInOneLine()
    {
        assertEquals("memory is required: null",
            refusal(() -> new VirtioBlkDevice(new VirtioBlkDevice.Context().cards(disks))));
        assertEquals("a device needs at least one card: []",
            refusal(() -> new VirtioBlkDevice(blk().cards(List.of()))));
        assertEquals("a blk device needs 1..65535 queues: 0", refusal(() -> new VirtioBlkDevice(blk().queueCount(0))));
        assertEquals("queue max size must be 1..32768: 65536",
            refusal(() -> new VirtioBlkDevice(blk().queueMaxSize(65536))));
        assertEquals("max cards must be 2..64: 1", refusal(() -> new VirtioBlkDevice(blk().maxCards(1))));
        assertEquals("max segments must be 1..32768: 0", refusal(() -> new VirtioBlkDevice(blk().maxSegments(0))));
        assertEquals("batch size must be 1..65536: 0", refusal(() -> new VirtioBlkDevice(blk().batchSize(0))));
        assertEquals("probe timeout must be > 0 ns: 0", refusal(() -> new VirtioBlkDevice(blk().probeTimeoutNanos(0))));
        assertEquals("card wait must be 0..10000000 ns: 10000001",
            refusal(() -> new VirtioBlkDevice(blk().cardWaitNanos(10_000_001))));
        assertEquals("card wait must be 0..10000000 ns: -1", refusal(() -> new VirtioBlkDevice(blk().cardWaitNanos(-1))));
        assertEquals("the serial must be at most 20 ASCII characters: braid-serial-longer-than-20",
            refusal(() -> new VirtioBlkDevice(blk().serial("braid-serial-longer-than-20"))));
        for (final String message : new String[] {
            refusal(() -> new VirtioBlkDevice(blk().queueCount(0))), refusal(() -> new VirtioBlkDevice(blk().maxCards(65)))})
        {
            assertFalse(message.contains("\n"), message);
        }
    }

    @Test
    void aConcludedContextRefusesSetters()
    {
        final VirtioBlkDevice.Context context = blk();
        new VirtioBlkDevice(context);
        final IllegalStateException error = assertThrows(IllegalStateException.class, () -> context.queueCount(4));
        assertTrue(error.getMessage().contains("concluded"), error.getMessage());
        assertThrows(IllegalStateException.class, () -> context.allDown(AllDownPolicy.failFast()));
    }

    @Test
    void theNoPathTimeoutFollowsTheAllDownPolicyInAnyOrder()
    {
        // allDown before and after the tunables: the deadline is derived at conclude, never dropped.
        final VirtioBlkDevice.Context before = blk().allDown(AllDownPolicy.queueUntilDeadline(123_000)).batchSize(32);
        final VirtioBlkDevice.Context after = blk().batchSize(32).allDown(AllDownPolicy.queueUntilDeadline(123_000));
        assertEquals(123_000, before.conclude().tunables().noPathTimeoutNanos());
        assertEquals(123_000, after.conclude().tunables().noPathTimeoutNanos());
        assertEquals(0, blk().allDown(AllDownPolicy.failFast()).conclude().tunables().noPathTimeoutNanos());
    }

    @Test
    void theBuilderKeepsTheDeadlineWhenTheContextComesLast()
    {
        // Once a trap: context(c) after allDownPolicy(p) silently dropped p's deadline.
        final VirtualClock clock = new VirtualClock();
        final SplitQueue queue = new SplitQueue(memory, 16, 0, 4096, 8192, false, false);
        final AggregatedDevice device = AggregatedDevice.builder().clock(clock).card(disks.get(0))
            .queues(new DeviceQueue[] {queue}, new RequestHandler[] {new BlkRequestHandler(memory, new BlkRequestParser().capacity(1 << 20), 16, 16,
                "ctx".getBytes(java.nio.charset.StandardCharsets.US_ASCII))})
            .probeHandler(new BlkProbeHandler(8)).mapPolicy(new ActiveActivePolicy(1, DispatchMode.QUEUE_AFFINE))
            .allDownPolicy(AllDownPolicy.queueUntilDeadline(777_000)).context(new AggregatorContext())
            .build();
        assertNotNull(device);
        assertEquals(777_000, noPathTimeoutOf(device.frontQueue(0)));
    }

    private static long noPathTimeoutOf(final FrontQueue front)
    {
        try
        {
            final java.lang.reflect.Field field = FrontQueue.class.getDeclaredField("noPathTimeoutNanos");
            field.setAccessible(true);
            return field.getLong(front);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new AssertionError(ex);
        }
    }

    @Test
    void netRefusesAnAggregationThatCannotWork()
    {
        final VirtualClock clock = new VirtualClock();
        final L2Segment segment = new L2Segment(new PeerHost(0x525400BB0001L, FrameBuilder.ipv4(10, 0, 0, 1)));
        final List<NetCard> nics = List.of(
            new SimNic("n0", FrameBuilder.macBytes(0x525400CC0000L), segment, clock, 1, 64, 256, 20_000),
            new SimNic("n1", FrameBuilder.macBytes(0x525400CC0001L), segment, clock, 1, 64, 256, 20_000));
        final Supplier<VirtioNetDevice.Context> net =
            () -> new VirtioNetDevice.Context().memory(memory).cards(nics).mac(0x525400AA0001L).clock(clock);
        assertEquals("virtio-net active-active needs request spray (e.g. flow-hash), not queue-affine: aa:queue-affine",
            refusal(() -> new VirtioNetDevice(net.get().aggregation(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE)))));
        assertEquals("the device MAC must be a 48-bit unicast address: 10000000000",
            refusal(() -> new VirtioNetDevice(net.get().mac(0x0100_0000_0000L))));
        // The same pairing over one NIC, active-passive, and a spray all work.
        new VirtioNetDevice(net.get().cards(nics.subList(0, 1)).aggregation(Aggregation.activeActive(SelectorKind.QUEUE_AFFINE)));
        new VirtioNetDevice(net.get().aggregation(Aggregation.activePassive(Failback.immediate())));
        assertEquals(Aggregation.activeActive(SelectorKind.FLOW_HASH), net.get().conclude().aggregation());
        assertEquals(64, net.get().conclude().maxSegments());
    }
}
