package dev.braid.virtio.queue;

import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.virtio.queue.SplitRingDescriptor.*;

/**
 * A hand-written split ring in guest memory, as a driver would lay it out: enough of a "guest" for
 * the queue's unit tests, and independent of the real driver model on purpose.
 */
final class SplitRingFixture
{
    static final long MEMORY_SIZE = 1 << 20;
    static final long DESC = 0x1000;
    static final long AVAIL = 0x10000;
    static final long USED = 0x20000;
    /** Free memory for buffers and indirect tables. */
    static final long DATA = 0x40000;

    static final int NEXT = VIRTQ_DESC_F_NEXT;
    static final int WRITE = VIRTQ_DESC_F_WRITE;
    static final int INDIRECT = VIRTQ_DESC_F_INDIRECT;

    final GuestMemory memory;
    final int size;
    private int availIdx;

    SplitRingFixture(final int size)
    {
        this(GuestMemory.allocate(MEMORY_SIZE), size);
    }

    SplitRingFixture(final GuestMemory memory, final int size)
    {
        this.memory = memory;
        this.size = size;
    }

    SplitQueue queue(final boolean eventIdx, final boolean indirect)
    {
        return new SplitQueue(memory, size, DESC, AVAIL, USED, eventIdx, indirect);
    }

    /** Writes descriptor {@code index} of the main table. */
    SplitRingFixture desc(final int index, final long addr, final long len, final int flags, final int next)
    {
        return descAt(DESC, index, addr, len, flags, next);
    }

    /** Writes descriptor {@code index} of the table at {@code table} (an indirect table). */
    SplitRingFixture descAt(final long table, final int index, final long addr, final long len, final int flags, final int next)
    {
        final long gpa = table + (long)index * DESCRIPTOR_LENGTH;
        memory.putLong(gpa + DESC_ADDR_OFFSET, addr);
        memory.putInt(gpa + DESC_LEN_OFFSET, (int)len);
        memory.putShort(gpa + DESC_FLAGS_OFFSET, (short)flags);
        memory.putShort(gpa + DESC_NEXT_OFFSET, (short)next);
        return this;
    }

    /** Makes {@code head} available and publishes avail.idx. */
    SplitRingFixture offer(final int head)
    {
        memory.putShort(AVAIL + AVAIL_RING_OFFSET + (long)(availIdx & (size - 1)) * AVAIL_ELEMENT_LENGTH, (short)head);
        availIdx = (availIdx + 1) & 0xFFFF;
        memory.putShortRelease(AVAIL + AVAIL_IDX_OFFSET, (short)availIdx);
        return this;
    }

    /** Writes a ring slot without publishing. */
    SplitRingFixture availSlot(final int slot, final int head)
    {
        memory.putShort(AVAIL + AVAIL_RING_OFFSET + (long)slot * AVAIL_ELEMENT_LENGTH, (short)head);
        return this;
    }

    /** Sets avail.idx directly (also the fixture's own counter). */
    SplitRingFixture availIdx(final int idx)
    {
        availIdx = idx & 0xFFFF;
        memory.putShortRelease(AVAIL + AVAIL_IDX_OFFSET, (short)availIdx);
        return this;
    }

    int availIdx()
    {
        return availIdx;
    }

    SplitRingFixture availFlags(final int flags)
    {
        memory.putShort(AVAIL + AVAIL_FLAGS_OFFSET, (short)flags);
        return this;
    }

    SplitRingFixture usedEvent(final int idx)
    {
        memory.putShort(AVAIL + usedEventOffset(size), (short)idx);
        return this;
    }

    int usedIdx()
    {
        return memory.getShortAcquire(USED + USED_IDX_OFFSET) & 0xFFFF;
    }

    int usedFlags()
    {
        return memory.getShort(USED + USED_FLAGS_OFFSET) & 0xFFFF;
    }

    int availEvent()
    {
        return memory.getShort(USED + availEventOffset(size)) & 0xFFFF;
    }

    int usedId(final int ringIndex)
    {
        return memory.getInt(USED + USED_RING_OFFSET + (long)(ringIndex & (size - 1)) * USED_ELEMENT_LENGTH);
    }

    int usedLen(final int ringIndex)
    {
        return memory.getInt(USED + USED_RING_OFFSET + (long)(ringIndex & (size - 1)) * USED_ELEMENT_LENGTH + 4);
    }
}
