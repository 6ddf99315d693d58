package dev.braid.examples.soak;

import dev.braid.aggregator.CardPort;
import dev.braid.aggregator.CompletionToken;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The recording wrapper sees every fence, however the aggregator asks for it (fence or beginFence). */
class OrderRecordingDiskTest
{
    @Test
    void theAggregatorsFenceExcusesTheWritesItStrands()
    {
        final WriteOrder order = new WriteOrder(1, 4);
        final OrderRecordingDisk disk = new OrderRecordingDisk(SimDisk.builder("d", new SharedBlockStore(2048)).build(), order);
        final CardPort<OrderRecordingDisk> port = new CardPort<>(0, disk, 16, (token, status, length) -> true);
        order.submitted(CompletionToken.encode(0, 0, 0, 0), 1);
        // The control agent fences through the port, which begins the card's fence.
        port.fence();
        order.submitted(CompletionToken.encode(0, 2, 0, 0), 3);
        order.submitted(CompletionToken.encode(0, 1, 0, 1), 2);
        assertEquals(0, order.outOfOrder(), "a write the fence stranded counted as a reorder");
        assertEquals(1, order.excused());
    }
}
