package dev.braid.testkit.queue;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.MalformedChains;
import dev.braid.testkit.driver.PackedDriverQueue;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.PackedQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.LongSupplier;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every malformed chain the driver model can build, posted through guest memory to the device
 * queue: the device answers with the documented {@link ChainStatus}, a chain error leaves the queue
 * usable (the id is completed with length 0 and the driver gets its descriptors back), and a ring
 * error breaks the queue until both sides reset.
 */
class MalformedChainCrossTest
{
    private static final int SIZE = 8;
    private static final int MAX_INDIRECT = 4;
    private static final long SCRATCH = 0x8_0000;
    private static final long MEMORY_SIZE = 0x10_0000;

    static Stream<Arguments> splitCases()
    {
        return Stream.of(Stream.of(
            chainError("next out of range", MalformedChains::nextOutOfRange, ChainStatus.NEXT_OUT_OF_RANGE),
            chainError("loop", MalformedChains::loop, ChainStatus.CHAIN_TOO_LONG)),
            sharedChainErrors(), Stream.of(
            ringError("head out of range", MalformedChains::headOutOfRange, ChainStatus.HEAD_OUT_OF_RANGE),
            // The jump is published with everything before it, so the very first pop sees it.
            Arguments.of("avail index jump", (ToIntFunction<MalformedChains>)MalformedChains::availIndexJump,
                ChainStatus.AVAIL_INDEX_JUMP, true, false))).flatMap(cases -> cases);
    }

    static Stream<Arguments> packedCases()
    {
        return Stream.concat(sharedChainErrors(), Stream.of(
            ringError("buffer id out of range", MalformedChains::bufferIdOutOfRange, ChainStatus.HEAD_OUT_OF_RANGE),
            // Needs the whole ring free, so no good chain may sit in front of it.
            Arguments.of("chain never ends", (ToIntFunction<MalformedChains>)MalformedChains::chainNeverEnds,
                ChainStatus.CHAIN_UNTERMINATED, true, false)));
    }

    /** The chain errors both ring formats answer the same way, in the order both tables list them. */
    private static Stream<Arguments> sharedChainErrors()
    {
        return Stream.of(
            chainError("indirect length 0", MalformedChains::indirectLengthZero, ChainStatus.INDIRECT_BAD_LENGTH),
            chainError("indirect length 20", MalformedChains::indirectLengthNotMultipleOf16, ChainStatus.INDIRECT_BAD_LENGTH),
            chainError("nested indirect", MalformedChains::nestedIndirect, ChainStatus.NESTED_INDIRECT),
            chainError("indirect with next", MalformedChains::indirectWithNext, ChainStatus.INDIRECT_WITH_NEXT),
            chainError("readable after writable", m -> m.readableAfterWritable(false), ChainStatus.READABLE_AFTER_WRITABLE),
            chainError("readable after writable, indirect", m -> m.readableAfterWritable(true), ChainStatus.READABLE_AFTER_WRITABLE),
            chainError("address overflow", m -> m.addressOverflow(false), ChainStatus.ADDRESS_OUT_OF_MEMORY),
            chainError("address overflow, indirect", m -> m.addressOverflow(true), ChainStatus.ADDRESS_OUT_OF_MEMORY),
            chainError("outside memory", m -> m.bufferOutsideMemory(false), ChainStatus.ADDRESS_OUT_OF_MEMORY),
            chainError("outside memory, indirect", m -> m.bufferOutsideMemory(true), ChainStatus.ADDRESS_OUT_OF_MEMORY));
    }

    private static Arguments chainError(final String name, final ToIntFunction<MalformedChains> post, final int status)
    {
        return Arguments.of(name, post, status, false, true);
    }

    private static Arguments ringError(final String name, final ToIntFunction<MalformedChains> post, final int status)
    {
        return Arguments.of(name, post, status, true, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("splitCases")
    void splitDeviceAnswersEveryMalformedChain(
        final String name,
        final ToIntFunction<MalformedChains> post,
        final int expected,
        final boolean ringError,
        final boolean goodChainFirst)
    {
        for (final int startIndex : new int[] { 0, 0xFFFF })
        {
            final GuestMemory memory = GuestMemory.allocate(MEMORY_SIZE);
            final RingLayout layout = RingLayout.split(0x1000, SIZE, MAX_INDIRECT);
            final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, false, startIndex);
            final SplitQueue device = new SplitQueue(
                memory, SIZE, layout.descGpa(), layout.availGpa(), layout.usedGpa(), false, true);
            device.startAt(startIndex, startIndex);
            final Sides sides = new Sides(memory, driver, device);
            sides.answers(name, post, expected, ringError, goodChainFirst, () -> device.startAt(startIndex, startIndex),
                () -> 0L);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("packedCases")
    void packedDeviceAnswersEveryMalformedChain(
        final String name,
        final ToIntFunction<MalformedChains> post,
        final int expected,
        final boolean ringError,
        final boolean goodChainFirst)
    {
        // Once from slot 0, once with the ring turned so that the bad chain crosses the ring end.
        for (final int rotate : new int[] { 0, SIZE - 1 })
        {
            final GuestMemory memory = GuestMemory.allocate(MEMORY_SIZE);
            final RingLayout layout = RingLayout.packed(0x1000, SIZE, MAX_INDIRECT);
            final PackedDriverQueue driver = new PackedDriverQueue(memory, layout, false);
            final PackedQueue device = new PackedQueue(
                memory, SIZE, layout.descGpa(), layout.driverEventGpa(), layout.deviceEventGpa(), false, true);
            final Sides sides = new Sides(memory, driver, device);
            for (int i = 0; i < rotate; i++)
            {
                sides.postGood();
                sides.popGood();
            }
            sides.answers(name, post, expected, ringError, goodChainFirst, () -> {}, device::ignoredCompletions);
        }
    }

    @Test
    void packedIndirectWithoutTheFeatureIsAChainError()
    {
        final GuestMemory memory = GuestMemory.allocate(MEMORY_SIZE);
        final RingLayout layout = RingLayout.packed(0x1000, SIZE, MAX_INDIRECT);
        final PackedDriverQueue driver = new PackedDriverQueue(memory, layout, false);
        final PackedQueue device = new PackedQueue(
            memory, SIZE, layout.descGpa(), layout.driverEventGpa(), layout.deviceEventGpa(), false, false);
        final BufferChain chain = new BufferChain(2).readable(SCRATCH, 16).writable(SCRATCH + 16, 16);
        final int id = driver.addChain(chain, true);
        driver.publish();
        final DescriptorChain popped = new DescriptorChain(SIZE);
        assertEquals(ChainStatus.INDIRECT_NOT_NEGOTIATED, device.pop(popped));
        assertEquals(id, popped.id());
        assertFalse(device.isBroken());
    }

    @Test
    void splitIndirectWithoutTheFeatureIsAChainError()
    {
        final GuestMemory memory = GuestMemory.allocate(MEMORY_SIZE);
        final RingLayout layout = RingLayout.split(0x1000, SIZE, MAX_INDIRECT);
        final SplitDriverQueue driver = new SplitDriverQueue(memory, layout, false);
        final SplitQueue device = new SplitQueue(
            memory, SIZE, layout.descGpa(), layout.availGpa(), layout.usedGpa(), false, false);
        final BufferChain chain = new BufferChain(2).readable(SCRATCH, 16).writable(SCRATCH + 16, 16);
        final int id = driver.addChain(chain, true);
        driver.publish();
        final DescriptorChain popped = new DescriptorChain(SIZE);
        assertEquals(ChainStatus.INDIRECT_BAD_LENGTH, device.pop(popped));
        assertEquals(id, popped.id());
        assertFalse(device.isBroken());
    }

    /** A driver and a device with one well-formed chain shape to check the queue still works. */
    private static final class Sides
    {
        final DriverQueue driver;
        final DeviceQueue device;
        final DescriptorChain chain = new DescriptorChain(SIZE);
        final BufferChain good = new BufferChain(2);
        int goodId;

        Sides(final GuestMemory memory, final DriverQueue driver, final DeviceQueue device)
        {
            this.driver = driver;
            this.device = device;
            good.readable(SCRATCH + 0x100, 32).writable(SCRATCH + 0x200, 64);
        }

        /**
         * Posts the malformed chain (behind a good one if asked) and checks the device's answer: a
         * ring error breaks the queue until both sides reset ({@code restart} re-arms the device),
         * a chain error names the head to complete and gives the driver every descriptor back.
         * Either way the queue then works as before.
         */
        void answers(
            final String name, final ToIntFunction<MalformedChains> post, final int expected, final boolean ringError,
            final boolean goodChainFirst, final Runnable restart, final LongSupplier ignoredCompletions)
        {
            if (goodChainFirst)
            {
                postGood();
            }
            final int bad = post.applyAsInt(new MalformedChains(driver, SCRATCH, 64));
            assertTrue(bad != DriverQueue.NO_ROOM, "no room for the malformed chain");
            if (goodChainFirst)
            {
                popGood();
            }

            final int status = device.pop(chain);
            assertEquals(expected, status, () -> name + ": " + ChainStatus.describe(status));
            if (ringError)
            {
                assertTrue(ChainStatus.isRingError(status));
                assertTrue(device.isBroken());
                assertEquals(expected, device.brokenReason());
                assertEquals(ChainStatus.QUEUE_BROKEN, device.pop(chain), "a broken queue pops nothing");
                assertFalse(device.hasAvailable());
                device.reset();
                driver.reset();
                restart.run();
                assertFalse(device.isBroken());
            }
            else
            {
                assertTrue(ChainStatus.isChainError(status));
                assertFalse(device.isBroken(), "a chain error must not break the queue");
                assertEquals(bad, chain.id(), "the chain error names the head to complete");
                device.addUsed(bad, 0);
                device.publishUsed();
                final int[] reaped = { -1, -1 };
                assertEquals(1, driver.reap((id, len) ->
                {
                    reaped[0] = id;
                    reaped[1] = len;
                }));
                assertEquals(bad, reaped[0]);
                assertEquals(0, reaped[1]);
                assertEquals(SIZE, driver.numFree());
                assertEquals(0, driver.deviceFaults());
                assertEquals(0L, ignoredCompletions.getAsLong());
            }
            postGood();
            popGood();
            assertEquals(ChainStatus.EMPTY, device.pop(chain));
            assertEquals(0, device.inFlight());
        }

        void postGood()
        {
            goodId = driver.addChain(good, false);
            assertTrue(goodId >= 0);
            driver.publish();
        }

        void popGood()
        {
            assertEquals(ChainStatus.POPPED, device.pop(chain));
            assertEquals(goodId, chain.id());
            assertEquals(2, chain.segmentCount());
            assertEquals(SCRATCH + 0x100, chain.address(0));
            assertEquals(32, chain.length(0));
            assertEquals(SCRATCH + 0x200, chain.address(1));
            assertEquals(64, chain.length(1));
            assertTrue(chain.isWritable(1));
            device.addUsed(goodId, 64);
            device.publishUsed();
            final int[] seen = new int[1];
            assertEquals(1, driver.reap((id, len) -> seen[0] = len));
            assertEquals(64, seen[0]);
        }
    }
}
