package dev.braid.virtio.memory;

/**
 * What every flyweight over a virtio structure in guest memory shares: the structure's position
 * and reads/writes of its little-endian fields by offset, unsigned where the wire field is. The
 * caller guarantees the bytes lie in guest memory (parsers check before wrapping; otherwise the
 * accessors throw {@link GuestMemoryException}).
 *
 * @param <S> the flyweight itself ({@code final class X extends GuestFlyweight<X>}), so that
 *            {@link #wrap} returns the concrete type.
 */
public abstract class GuestFlyweight<S extends GuestFlyweight<S>>
{
    private GuestMemory memory;
    private long gpa;

    /** Points this flyweight at the structure at {@code gpa}. */
    @SuppressWarnings("unchecked")
    public final S wrap(final GuestMemory memory, final long gpa)
    {
        this.memory = memory;
        this.gpa = gpa;
        return (S)this;
    }

    public final long gpa()
    {
        return gpa;
    }

    protected final int u8(final int offset)
    {
        return memory.getByte(gpa + offset) & 0xFF;
    }

    protected final void putU8(final int offset, final int value)
    {
        memory.putByte(gpa + offset, (byte)value);
    }

    protected final int u16(final int offset)
    {
        return memory.getShort(gpa + offset) & 0xFFFF;
    }

    protected final void putU16(final int offset, final int value)
    {
        memory.putShort(gpa + offset, (short)value);
    }

    protected final long u32(final int offset)
    {
        return memory.getInt(gpa + offset) & 0xFFFF_FFFFL;
    }

    /** A 32-bit field kept as its raw bits (flags, a reserved word). */
    protected final int i32(final int offset)
    {
        return memory.getInt(gpa + offset);
    }

    protected final void putU32(final int offset, final long value)
    {
        memory.putInt(gpa + offset, (int)value);
    }

    protected final long u64(final int offset)
    {
        return memory.getLong(gpa + offset);
    }

    protected final void putU64(final int offset, final long value)
    {
        memory.putLong(gpa + offset, value);
    }

    protected final void putBytes(final int offset, final byte[] src, final int length)
    {
        memory.putBytes(gpa + offset, src, 0, length);
    }
}
