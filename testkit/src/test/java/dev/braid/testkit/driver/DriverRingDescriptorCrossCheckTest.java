package dev.braid.testkit.driver;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import dev.braid.virtio.queue.PackedRingDescriptor;
import dev.braid.virtio.queue.SplitRingDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The driver model's layout constants were written from the spec independently of the device
 * side's; the two must agree, or one side misreads the other.
 */
@ExtendWith(SeedExtension.class)
class DriverRingDescriptorCrossCheckTest
{
    @Test
    void splitLayoutAgreesWithDeviceSide()
    {
        assertEquals(SplitRingDescriptor.MAX_QUEUE_SIZE, DriverRingDescriptor.MAX_QUEUE_SIZE);
        assertEquals(SplitRingDescriptor.DESCRIPTOR_LENGTH, DriverRingDescriptor.DESC_SIZE);
        assertEquals(SplitRingDescriptor.DESC_ADDR_OFFSET, DriverRingDescriptor.SPLIT_DESC_ADDR);
        assertEquals(SplitRingDescriptor.DESC_LEN_OFFSET, DriverRingDescriptor.SPLIT_DESC_LEN);
        assertEquals(SplitRingDescriptor.DESC_FLAGS_OFFSET, DriverRingDescriptor.SPLIT_DESC_FLAGS);
        assertEquals(SplitRingDescriptor.DESC_NEXT_OFFSET, DriverRingDescriptor.SPLIT_DESC_NEXT);
        assertEquals(SplitRingDescriptor.VIRTQ_DESC_F_NEXT, DriverRingDescriptor.F_NEXT);
        assertEquals(SplitRingDescriptor.VIRTQ_DESC_F_WRITE, DriverRingDescriptor.F_WRITE);
        assertEquals(SplitRingDescriptor.VIRTQ_DESC_F_INDIRECT, DriverRingDescriptor.F_INDIRECT);

        assertEquals(SplitRingDescriptor.AVAIL_FLAGS_OFFSET, DriverRingDescriptor.AVAIL_FLAGS);
        assertEquals(SplitRingDescriptor.AVAIL_IDX_OFFSET, DriverRingDescriptor.AVAIL_IDX);
        assertEquals(SplitRingDescriptor.AVAIL_RING_OFFSET, DriverRingDescriptor.AVAIL_RING);
        assertEquals(SplitRingDescriptor.AVAIL_ELEMENT_LENGTH, DriverRingDescriptor.AVAIL_ENTRY_SIZE);
        assertEquals(SplitRingDescriptor.VIRTQ_AVAIL_F_NO_INTERRUPT, DriverRingDescriptor.AVAIL_F_NO_INTERRUPT);

        assertEquals(SplitRingDescriptor.USED_FLAGS_OFFSET, DriverRingDescriptor.USED_FLAGS);
        assertEquals(SplitRingDescriptor.USED_IDX_OFFSET, DriverRingDescriptor.USED_IDX);
        assertEquals(SplitRingDescriptor.USED_RING_OFFSET, DriverRingDescriptor.USED_RING);
        assertEquals(SplitRingDescriptor.USED_ELEMENT_LENGTH, DriverRingDescriptor.USED_ENTRY_SIZE);
        assertEquals(SplitRingDescriptor.USED_ELEMENT_ID_OFFSET, DriverRingDescriptor.USED_ENTRY_ID);
        assertEquals(SplitRingDescriptor.USED_ELEMENT_LEN_OFFSET, DriverRingDescriptor.USED_ENTRY_LEN);
        assertEquals(SplitRingDescriptor.VIRTQ_USED_F_NO_NOTIFY, DriverRingDescriptor.USED_F_NO_NOTIFY);

        assertEquals(SplitRingDescriptor.DESC_TABLE_ALIGNMENT, DriverRingDescriptor.SPLIT_DESC_ALIGN);
        assertEquals(SplitRingDescriptor.AVAIL_ALIGNMENT, DriverRingDescriptor.SPLIT_AVAIL_ALIGN);
        assertEquals(SplitRingDescriptor.USED_ALIGNMENT, DriverRingDescriptor.SPLIT_USED_ALIGN);

        for (int size = 1; size <= DriverRingDescriptor.MAX_QUEUE_SIZE; size <<= 1)
        {
            assertEquals(SplitRingDescriptor.descriptorTableLength(size), RingLayout.split(0, size, 0).descriptorAreaLength());
            assertEquals(SplitRingDescriptor.availRingLength(size), DriverRingDescriptor.splitAvailSize(size));
            assertEquals(SplitRingDescriptor.usedRingLength(size), DriverRingDescriptor.splitUsedSize(size));
            assertEquals(SplitRingDescriptor.usedEventOffset(size), DriverRingDescriptor.usedEventOffset(size));
            assertEquals(SplitRingDescriptor.availEventOffset(size), DriverRingDescriptor.availEventOffset(size));
        }
    }

    @Test
    void packedLayoutAgreesWithDeviceSide()
    {
        assertEquals(PackedRingDescriptor.MAX_QUEUE_SIZE, DriverRingDescriptor.MAX_QUEUE_SIZE);
        assertEquals(PackedRingDescriptor.DESCRIPTOR_LENGTH, DriverRingDescriptor.DESC_SIZE);
        assertEquals(PackedRingDescriptor.DESC_ADDR_OFFSET, DriverRingDescriptor.PACKED_DESC_ADDR);
        assertEquals(PackedRingDescriptor.DESC_LEN_OFFSET, DriverRingDescriptor.PACKED_DESC_LEN);
        assertEquals(PackedRingDescriptor.DESC_ID_OFFSET, DriverRingDescriptor.PACKED_DESC_ID);
        assertEquals(PackedRingDescriptor.DESC_FLAGS_OFFSET, DriverRingDescriptor.PACKED_DESC_FLAGS);
        assertEquals(PackedRingDescriptor.VIRTQ_DESC_F_NEXT, DriverRingDescriptor.F_NEXT);
        assertEquals(PackedRingDescriptor.VIRTQ_DESC_F_WRITE, DriverRingDescriptor.F_WRITE);
        assertEquals(PackedRingDescriptor.VIRTQ_DESC_F_INDIRECT, DriverRingDescriptor.F_INDIRECT);
        assertEquals(PackedRingDescriptor.VIRTQ_DESC_F_AVAIL & 0xFFFF, DriverRingDescriptor.PACKED_F_AVAIL);
        assertEquals(PackedRingDescriptor.VIRTQ_DESC_F_USED & 0xFFFF, DriverRingDescriptor.PACKED_F_USED);

        assertEquals(PackedRingDescriptor.EVENT_OFF_WRAP_OFFSET, DriverRingDescriptor.EVENT_OFF_WRAP);
        assertEquals(PackedRingDescriptor.EVENT_FLAGS_OFFSET, DriverRingDescriptor.EVENT_FLAGS);
        assertEquals(PackedRingDescriptor.EVENT_STRUCTURE_LENGTH, DriverRingDescriptor.EVENT_SIZE);
        assertEquals(PackedRingDescriptor.RING_EVENT_FLAGS_ENABLE, DriverRingDescriptor.EVENT_FLAGS_ENABLE);
        assertEquals(PackedRingDescriptor.RING_EVENT_FLAGS_DISABLE, DriverRingDescriptor.EVENT_FLAGS_DISABLE);
        assertEquals(PackedRingDescriptor.RING_EVENT_FLAGS_DESC, DriverRingDescriptor.EVENT_FLAGS_DESC);
        assertEquals(PackedRingDescriptor.DESC_RING_ALIGNMENT, DriverRingDescriptor.PACKED_DESC_ALIGN);
        assertEquals(PackedRingDescriptor.EVENT_ALIGNMENT, DriverRingDescriptor.PACKED_EVENT_ALIGN);
        assertEquals(PackedRingDescriptor.descriptorRingLength(100), RingLayout.packed(0, 100, 0).descriptorAreaLength());
    }

    @Test
    void eventIndexRuleAgreesWithDeviceSide(final Seed seed)
    {
        final SplittableRandom random = new SplittableRandom(seed.value());
        final int iterations = seed.seeds() * 50;
        for (int i = 0; i < iterations; i++)
        {
            final int oldIdx = random.nextInt(0x10000);
            final int newIdx = (oldIdx + random.nextInt(0x10000)) & 0xFFFF;
            // Bias events towards the interesting window around [old, new).
            final int event = random.nextBoolean() ? random.nextInt(0x10000) : (oldIdx + random.nextInt(-4, 8)) & 0xFFFF;
            assertEquals(
                SplitRingDescriptor.needEvent(event, newIdx, oldIdx),
                DriverRingDescriptor.passed(event, newIdx, oldIdx),
                "event=" + event + " new=" + newIdx + " old=" + oldIdx + " " + seed);
        }
    }
}
