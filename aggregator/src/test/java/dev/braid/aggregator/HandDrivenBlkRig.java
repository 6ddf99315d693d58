package dev.braid.aggregator;

import dev.braid.aggregator.blk.BlkProbeHandler;
import dev.braid.aggregator.blk.BlkRequestHandler;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.VirtualClock;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two block cards behind one split queue, request spray round-robin, every agent stepped by hand
 * on the test thread: the rig the fence and zombie interleavings are written against.
 */
final class HandDrivenBlkRig
{
    final VirtualClock clock = new VirtualClock();
    final GuestMemory memory = GuestMemory.allocate(1 << 20);
    final SplitDriverQueue driver;
    final AggregatedDevice device;
    final FrontQueue front;
    final List<Agent> workers;
    private final boolean indirect;
    /** Guest completions reaped so far. */
    int completed;

    /**
     * @param indirect whether each read is posted as one indirect descriptor.
     * @param custom   the request handler, or null for a blk handler with {@code serial}.
     */
    HandDrivenBlkRig(
        final BlockCard[] cards,
        final int queueSize,
        final boolean indirect,
        final String serial,
        final RequestHandler custom)
    {
        this(cards, queueSize, indirect, serial, custom, new AggregatorContext());
    }

    /** @param context the device's tunables (card wait, backlog, ...). */
    HandDrivenBlkRig(
        final BlockCard[] cards,
        final int queueSize,
        final boolean indirect,
        final String serial,
        final RequestHandler custom,
        final AggregatorContext context)
    {
        this.indirect = indirect;
        final RingLayout layout = RingLayout.split(0x1000, queueSize, 4);
        driver = new SplitDriverQueue(memory, layout, false);
        final DeviceQueue queue = new SplitQueue(memory, queueSize, layout.descGpa(), layout.availGpa(),
            layout.usedGpa(), false, true);
        final RequestHandler handler = custom != null ? custom : new BlkRequestHandler(memory,
            new BlkRequestParser().capacity(4096), queueSize, 16, serial.getBytes(StandardCharsets.US_ASCII));
        device = AggregatedDevice.builder().clock(clock).context(context).card(cards[0]).card(cards[1])
            .queues(new DeviceQueue[]{queue}, new RequestHandler[]{handler})
            .probeHandler(new BlkProbeHandler(8))
            .mapPolicy(new ActiveActivePolicy(1, DispatchMode.REQUEST_SPRAY))
            .dispatchPolicy(DispatchPolicy.requestSpray(SelectorKind.ROUND_ROBIN))
            .build();
        front = device.frontQueue(0);
        // One card worker per card (one queue each), in card order.
        workers = device.agents().stream().filter(a -> a instanceof CardWorker).toList();
    }

    /** One duty cycle of {@code card}'s worker. */
    void work(final int card)
    {
        try
        {
            workers.get(card).doWork();
        }
        catch (final Exception ex)
        {
            throw new AssertionError(ex);
        }
    }

    /** Posts one 512-byte read of sector 0 and publishes it. */
    void postRead()
    {
        final long gpa = 0x40000;
        memory.putInt(gpa, 0); // VIRTIO_BLK_T_IN
        memory.putInt(gpa + 4, 0);
        memory.putLong(gpa + 8, 0);
        final BufferChain chain = new BufferChain(4).readable(gpa, 16).writable(gpa + 16, 512)
            .writable(gpa + 16 + 512, 1);
        assertTrue(driver.addChain(chain, indirect) >= 0);
        driver.publish();
    }

    /** Posts a read, lets the front queue dispatch it, and returns the card it went to. */
    int postAndDispatch()
    {
        postRead();
        front.doWork();
        return cardHolding();
    }

    /** Reaps the guest's used ring; returns how many completions it found. */
    int reap()
    {
        return driver.reap((id, len) -> completed++);
    }

    /** The card the one outstanding request is on. */
    int cardHolding()
    {
        for (int c = 0; c < 2; c++)
        {
            if (front.outstanding(c) == 1)
            {
                return c;
            }
        }
        return fail("the request is on no card");
    }
}
