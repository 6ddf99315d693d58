package dev.braid.virtio.device;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * A device-specific configuration space as bytes, little-endian, laid out exactly as the spec's
 * config struct. The transport reads it at (offset, width); reads outside return 0 and writes to
 * bytes the driver may not change are dropped, so that a guest access never throws.
 *
 * <p>Device code sets fields through the typed accessors of a subclass and then calls
 * {@link VirtioDeviceCore#configChanged()} so that the generation moves.
 */
public abstract class ConfigSpace
{
    protected final UnsafeBuffer buffer;
    private final boolean[] driverWritable;

    protected ConfigSpace(final int size)
    {
        buffer = new UnsafeBuffer(new byte[size]);
        driverWritable = new boolean[size];
    }

    public final int size()
    {
        return buffer.capacity();
    }

    /** Marks {@code [offset, offset + length)} as driver-writable. Setup only. */
    protected final void driverWritable(final int offset, final int length)
    {
        for (int i = offset; i < offset + length; i++)
        {
            driverWritable[i] = true;
        }
    }

    private boolean inRange(final int offset, final int width)
    {
        return offset >= 0 && width > 0 && width <= 8 && offset <= size() - width;
    }

    /** A transport read of {@code width} (1, 2, 4 or 8) bytes, zero-extended; 0 when out of range. */
    public final long read(final int offset, final int width)
    {
        if (!inRange(offset, width))
        {
            return 0;
        }
        long value = 0;
        for (int i = 0; i < width; i++)
        {
            value |= (buffer.getByte(offset + i) & 0xFFL) << (8 * i);
        }
        return value;
    }

    /**
     * A transport write. Applied only when every byte is driver-writable and then passed to
     * {@link #onDriverWrite}; otherwise dropped. Returns whether it was applied.
     */
    public final boolean write(final int offset, final int width, final long value)
    {
        if (!inRange(offset, width))
        {
            return false;
        }
        for (int i = 0; i < width; i++)
        {
            if (!driverWritable[offset + i])
            {
                return false;
            }
        }
        for (int i = 0; i < width; i++)
        {
            buffer.putByte(offset + i, (byte)(value >>> (8 * i)));
        }
        onDriverWrite(offset, width);
        return true;
    }

    /** Hook for devices that react to driver writes (blk writeback, scsi sense/cdb size). */
    protected void onDriverWrite(final int offset, final int width)
    {
    }

    /** Copies the whole space out (vhost-user GET_CONFIG). */
    public final void copyTo(final byte[] dst, final int dstOffset)
    {
        buffer.getBytes(0, dst, dstOffset, size());
    }

    protected final int u8(final int offset)
    {
        return buffer.getByte(offset) & 0xFF;
    }

    protected final void u8(final int offset, final int value)
    {
        buffer.putByte(offset, (byte)value);
    }

    protected final int u16(final int offset)
    {
        return buffer.getShort(offset, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
    }

    protected final void u16(final int offset, final int value)
    {
        buffer.putShort(offset, (short)value, ByteOrder.LITTLE_ENDIAN);
    }

    protected final long u32(final int offset)
    {
        return buffer.getInt(offset, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
    }

    protected final void u32(final int offset, final long value)
    {
        buffer.putInt(offset, (int)value, ByteOrder.LITTLE_ENDIAN);
    }

    protected final long u64(final int offset)
    {
        return buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN);
    }

    protected final void u64(final int offset, final long value)
    {
        buffer.putLong(offset, value, ByteOrder.LITTLE_ENDIAN);
    }
}
