package dev.braid.perf.virtio;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.PackedDriverQueue;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.PackedQueue;
import dev.braid.virtio.queue.PackedRingDescriptor;
import dev.braid.virtio.queue.SplitQueue;
import dev.braid.virtio.queue.SplitRingDescriptor;
import org.agrona.concurrent.UnsafeBuffer;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * A ring that the driver model has filled to the brim, plus the cheapest honest way for a driver to
 * hand the same chains back to the device after they were used: {@link #rearm} rewrites only what a
 * driver must (split: the available ring entries and avail.idx; packed: len, id and flags of every
 * slot, head flags last with release), so that a benchmark of the device side is not dominated by
 * the driver model's bookkeeping. The used ring is not read back: the device side's cost ends at
 * {@code publishUsed}.
 */
final class PrefilledRing
{
    /** Where the data buffers start when the ring fits below (a 256-entry ring does). */
    static final long DATA_GPA = 0x10_0000;
    private static final long DATA_LENGTH = 0x10_0000;
    private static final long PACKED_LAP_FLIP =
        ((long)((PackedRingDescriptor.VIRTQ_DESC_F_AVAIL | PackedRingDescriptor.VIRTQ_DESC_F_USED) & 0xFFFF)) << 48;

    final GuestMemory memory;
    final DriverQueue driver;
    final DeviceQueue device;
    final BufferChain template;
    final boolean indirect;
    final int size;
    final int chains;
    final int slotsPerChain;
    final long writtenLength;
    final long dataGpa;

    private final boolean packed;
    private final UnsafeBuffer buffer;
    private final int mask;

    // Split: heads in posting order, and where the driver's avail.idx stands.
    private final int[] heads;
    private final long availGpa;
    private final int availRingOffset;
    private int availIdx;
    private int rearmed;

    // Packed: each slot's len/id/flags word as first posted (wrap counter 1), and the driver's cursor.
    private final long[] slotWords;
    private final int descOffset;
    private int driverSlot;
    private boolean driverWrap;

    PrefilledRing(final boolean packed, final int size, final int segments, final boolean indirect, final boolean eventIdx)
    {
        this.packed = packed;
        this.size = size;
        this.mask = size - 1;
        this.indirect = indirect;
        final int maxIndirect = indirect ? segments : 0;
        final RingLayout layout = packed ?
            RingLayout.packed(0x1000, size, maxIndirect) : RingLayout.split(0x1000, size, maxIndirect);
        if (java.nio.ByteOrder.nativeOrder() != LITTLE_ENDIAN)
        {
            throw new IllegalArgumentException("needs a little-endian host: " + layout);
        }
        dataGpa = Math.max(DATA_GPA, RingLayout.alignUp(layout.endGpa(), 0x1000));
        memory = GuestMemory.allocate(dataGpa + DATA_LENGTH);
        buffer = memory.buffer(0);
        if (packed)
        {
            driver = new PackedDriverQueue(memory, layout, eventIdx);
            device = new PackedQueue(
                memory, size, layout.descGpa(), layout.driverEventGpa(), layout.deviceEventGpa(), eventIdx, indirect);
        }
        else
        {
            driver = new SplitDriverQueue(memory, layout, eventIdx);
            device = new SplitQueue(memory, size, layout.descGpa(), layout.availGpa(), layout.usedGpa(), eventIdx, indirect);
        }
        template = chainOf(dataGpa, segments);
        writtenLength = template.writableBytes();
        slotsPerChain = indirect ? 1 : segments;
        chains = size / slotsPerChain;
        heads = new int[chains];
        for (int i = 0; i < chains; i++)
        {
            heads[i] = driver.addChain(template, indirect);
            if (heads[i] < 0)
            {
                throw new IllegalStateException("ring full after " + i + " chains");
            }
        }
        driver.publish();
        driver.disableInterrupts();
        device.disableNotifications();

        availGpa = packed ? 0 : layout.availGpa();
        availRingOffset = packed ? 0 : memory.offset(0, layout.availGpa() + SplitRingDescriptor.AVAIL_RING_OFFSET);
        availIdx = packed ? 0 : ((SplitDriverQueue)driver).availIndex();
        descOffset = memory.offset(0, layout.descGpa());
        slotWords = new long[packed ? size : 0];
        for (int s = 0; s < slotWords.length; s++)
        {
            slotWords[s] = buffer.getLong(descOffset + s * PackedRingDescriptor.DESCRIPTOR_LENGTH +
                PackedRingDescriptor.DESC_LEN_OFFSET, LITTLE_ENDIAN);
        }
        // The fill used every slot exactly once, so the driver's next lap starts at 0 with wrap 0.
        driverSlot = 0;
        driverWrap = false;
    }

    /** One readable-then-writable chain shaped like a block request (header, data, status). */
    static BufferChain chainOf(final long dataGpa, final int segments)
    {
        final BufferChain chain = new BufferChain(segments);
        if (segments == 1)
        {
            return chain.writable(dataGpa, 2048);
        }
        chain.readable(dataGpa, 16);
        for (int i = 1; i < segments - 1; i++)
        {
            chain.add(dataGpa + 0x1000L * i, 2048, i >= segments / 2);
        }
        return chain.writable(dataGpa + 0x1000L * segments, 1);
    }

    /**
     * Makes {@code count} chains available again, the ones the device used first (the device must
     * have completed them, in order).
     */
    void rearm(final int count)
    {
        if (packed)
        {
            rearmPacked(count);
        }
        else
        {
            rearmSplit(count);
        }
    }

    private void rearmSplit(final int count)
    {
        int idx = availIdx;
        int position = rearmed;
        for (int k = 0; k < count; k++)
        {
            buffer.putShort(availRingOffset + (idx & mask) * SplitRingDescriptor.AVAIL_ELEMENT_LENGTH,
                (short)heads[position], LITTLE_ENDIAN);
            idx = (idx + 1) & 0xFFFF;
            // A compare, not a modulo: a 64-bit division per chain was a visible share of the re-arm.
            if (++position == chains)
            {
                position = 0;
            }
        }
        rearmed = position;
        availIdx = idx;
        // Release: the ring entries above are visible before the index that covers them.
        memory.putShortRelease(availGpa + SplitRingDescriptor.AVAIL_IDX_OFFSET, (short)idx);
    }

    private void rearmPacked(final int count)
    {
        int slot = driverSlot;
        boolean wrap = driverWrap;
        for (int c = 0; c < count; c++)
        {
            final int head = slot;
            final boolean headWrap = wrap;
            for (int d = 1; d < slotsPerChain; d++)
            {
                if (++slot == size)
                {
                    slot = 0;
                    wrap = !wrap;
                }
                buffer.putLong(descOffset + slot * PackedRingDescriptor.DESCRIPTOR_LENGTH + PackedRingDescriptor.DESC_LEN_OFFSET,
                    wrap ? slotWords[slot] : slotWords[slot] ^ PACKED_LAP_FLIP, LITTLE_ENDIAN);
            }
            if (++slot == size)
            {
                slot = 0;
                wrap = !wrap;
            }
            final long word = headWrap ? slotWords[head] : slotWords[head] ^ PACKED_LAP_FLIP;
            // Release: the chain's other slots are visible before its head. len, id and flags go in
            // one aligned 8-byte store (native order is little-endian here, as the ring is), so the
            // device never sees the new flags with an old len or id.
            buffer.putLongRelease(descOffset + head * PackedRingDescriptor.DESCRIPTOR_LENGTH +
                PackedRingDescriptor.DESC_LEN_OFFSET, word);
        }
        driverSlot = slot;
        driverWrap = wrap;
    }
}
