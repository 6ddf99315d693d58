package dev.braid.virtio.queue;

import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.virtio.queue.PackedRingDescriptor.DESCRIPTOR_LENGTH;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_ADDR_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_FLAGS_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_ID_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_LEN_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_AVAIL;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_INDIRECT;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_NEXT;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_USED;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_WRITE;

/**
 * A minimal driver-side writer for packed rings in tests: it lays descriptors out by hand, keeps
 * the driver's wrap counter and exposes the raw ring slots.
 */
final class PackedRingWriter
{
    /** A buffer element; {@code flags} adds raw bits (WRITE, INDIRECT, junk) to the descriptor. */
    record Seg(long addr, int len, int flags)
    {
    }

    /** An id written in every descriptor but the last, to show the device reads the last one. */
    static final int JUNK_ID = 0x7EEF;

    final GuestMemory memory;
    final long ring;
    final int size;
    int nextSlot;
    boolean wrap = true;

    PackedRingWriter(final GuestMemory memory, final long ring, final int size)
    {
        this.memory = memory;
        this.ring = ring;
        this.size = size;
    }

    static Seg read(final long addr, final int len)
    {
        return new Seg(addr, len, 0);
    }

    static Seg write(final long addr, final int len)
    {
        return new Seg(addr, len, VIRTQ_DESC_F_WRITE);
    }

    static Seg raw(final long addr, final int len, final int flags)
    {
        return new Seg(addr, len, flags);
    }

    static int availBits(final boolean wrap)
    {
        return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED & 0xFFFF;
    }

    long slotAddress(final int slot)
    {
        return ring + (long)slot * DESCRIPTOR_LENGTH;
    }

    /**
     * Posts one chain through consecutive slots, NEXT on all but the last, the id in the last;
     * the head's flags go last with release, as a driver must. Returns the slots used.
     */
    int post(final int id, final Seg... segs)
    {
        final int head = nextSlot;
        int headFlags = 0;
        for (int i = 0; i < segs.length; i++)
        {
            final boolean last = i == segs.length - 1;
            final int flags = segs[i].flags() | (last ? 0 : VIRTQ_DESC_F_NEXT) | availBits(wrap);
            writeBody(nextSlot, segs[i].addr(), segs[i].len(), last ? id : JUNK_ID);
            if (i == 0)
            {
                headFlags = flags;
            }
            else
            {
                memory.putShort(slotAddress(nextSlot) + DESC_FLAGS_OFFSET, (short)flags);
            }
            advance();
        }
        memory.putShortRelease(slotAddress(head) + DESC_FLAGS_OFFSET, (short)headFlags);
        return segs.length;
    }

    /** Writes the table entries at {@code table}, then posts one INDIRECT ring descriptor. */
    void postIndirect(final int id, final long table, final Seg... entries)
    {
        for (int i = 0; i < entries.length; i++)
        {
            final long gpa = table + (long)i * DESCRIPTOR_LENGTH;
            memory.putLong(gpa + DESC_ADDR_OFFSET, entries[i].addr());
            memory.putInt(gpa + DESC_LEN_OFFSET, entries[i].len());
            memory.putShort(gpa + DESC_ID_OFFSET, (short)JUNK_ID);
            memory.putShort(gpa + DESC_FLAGS_OFFSET, (short)entries[i].flags());
        }
        post(id, raw(table, entries.length * DESCRIPTOR_LENGTH, VIRTQ_DESC_F_INDIRECT));
    }

    /** Writes one slot verbatim, without touching the writer's cursor. */
    void writeRaw(final int slot, final long addr, final int len, final int id, final int flags)
    {
        writeBody(slot, addr, len, id);
        memory.putShortRelease(slotAddress(slot) + DESC_FLAGS_OFFSET, (short)flags);
    }

    void advance()
    {
        if (++nextSlot == size)
        {
            nextSlot = 0;
            wrap = !wrap;
        }
    }

    int flagsAt(final int slot)
    {
        return memory.getShort(slotAddress(slot) + DESC_FLAGS_OFFSET) & 0xFFFF;
    }

    int idAt(final int slot)
    {
        return memory.getShort(slotAddress(slot) + DESC_ID_OFFSET) & 0xFFFF;
    }

    int lenAt(final int slot)
    {
        return memory.getInt(slotAddress(slot) + DESC_LEN_OFFSET);
    }

    /** Whether the slot holds a used descriptor for the given device wrap counter. */
    boolean isUsed(final int slot, final boolean usedWrap)
    {
        final int mask = (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) & 0xFFFF;
        return (flagsAt(slot) & mask) == (usedWrap ? mask : 0);
    }

    private void writeBody(final int slot, final long addr, final int len, final int id)
    {
        memory.putLong(slotAddress(slot) + DESC_ADDR_OFFSET, addr);
        memory.putInt(slotAddress(slot) + DESC_LEN_OFFSET, len);
        memory.putShort(slotAddress(slot) + DESC_ID_OFFSET, (short)id);
    }
}
