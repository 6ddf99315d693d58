package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Both ring formats: an indirect table is a descriptor list and may not exceed the queue size, though the layout has room. */
class IndirectTableLimitTest
{
    /** (ring, queue over memory with tables of twice the queue size, queue size). */
    static Stream<Arguments> queues()
    {
        return Stream.of(
            Arguments.of("split", (Function<GuestMemory, DriverQueue>)memory ->
                new SplitDriverQueue(memory, RingLayout.split(0x1000, 8, 16), false), 8),
            Arguments.of("packed", (Function<GuestMemory, DriverQueue>)memory ->
                new PackedDriverQueue(memory, RingLayout.packed(0x1000, 4, 8), false), 4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("queues")
    void indirectTableLongerThanTheQueueIsRejected(final String ring, final Function<GuestMemory, DriverQueue> queues,
        final int size)
    {
        final DriverQueue queue = queues.apply(GuestMemory.allocate(1 << 16));
        assertThrows(IllegalArgumentException.class, () -> queue.addChain(chainOf(size + 1), true));
        assertEquals(size, queue.numFree(), "nothing taken by the refused chain");
        assertEquals(0, queue.addChain(chainOf(size), true));
        assertEquals(size - 1, queue.numFree());
    }

    /** {@code segments} device-writable buffers of 256 bytes. */
    static BufferChain chainOf(final int segments)
    {
        final BufferChain chain = new BufferChain(segments);
        for (int i = 0; i < segments; i++)
        {
            chain.writable(0x8000 + 0x100L * i, 0x100);
        }
        return chain;
    }
}
