package dev.braid.virtio.scsi;

import dev.braid.virtio.memory.GuestMemory;

/**
 * What the control-queue request flyweights share: a position in guest memory and its u32/u64
 * little-endian fields. The caller guarantees the bytes lie in guest memory.
 */
abstract class ScsiCtrlFlyweight
{
    private GuestMemory memory;
    private long gpa;

    final void at(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
    }

    public final long gpa()
    {
        return gpa;
    }

    final long u32(final int offset)
    {
        return memory.getInt(gpa + offset) & 0xFFFF_FFFFL;
    }

    final void putU32(final int offset, final long value)
    {
        memory.putInt(gpa + offset, (int)value);
    }

    final long u64(final int offset)
    {
        return memory.getLong(gpa + offset);
    }

    final void putU64(final int offset, final long value)
    {
        memory.putLong(gpa + offset, value);
    }
}
