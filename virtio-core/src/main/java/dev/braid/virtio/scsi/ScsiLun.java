package dev.braid.virtio.scsi;

/**
 * The 8-byte virtio-scsi LUN field, held in a long with byte i of the field in bits 8i..8i+7 (so a
 * little-endian load of the field gives this value). The format is: byte 0 = 1, byte 1 = target,
 * bytes 2-3 = the LUN in SAM flat (0x40) or peripheral (0x00, LUN below 256) addressing, bytes 4-7
 * = 0. Anything else names no target of this device.
 */
public final class ScsiLun
{
    /** Highest LUN the two-byte flat format can carry. */
    public static final int MAX_LUN = 0x3FFF;

    private ScsiLun()
    {
    }

    /** The field the Linux driver builds for (target, lun): flat addressing. */
    public static long encode(final int target, final int lun)
    {
        final long b2 = ((lun >>> 8) & 0x3F) | 0x40;
        return 1L | ((target & 0xFFL) << 8) | (b2 << 16) | ((lun & 0xFFL) << 24);
    }

    /** Writes {@link #encode} into {@code dst[offset..offset+8)}. */
    public static void encode(final int target, final int lun, final byte[] dst, final int offset)
    {
        final long value = encode(target, lun);
        for (int i = 0; i < ScsiDescriptor.LUN_LENGTH; i++)
        {
            dst[offset + i] = (byte)(value >>> (8 * i));
        }
    }

    public static int byteAt(final long lunField, final int index)
    {
        return (int)(lunField >>> (8 * index)) & 0xFF;
    }

    /** Whether the field has the format above. */
    public static boolean isWellFormed(final long lunField)
    {
        if (byteAt(lunField, 0) != 1 || (lunField >>> 32) != 0)
        {
            return false;
        }
        final int addressing = byteAt(lunField, 2) & 0xC0;
        return addressing == 0x40 || byteAt(lunField, 2) == 0;
    }

    public static int target(final long lunField)
    {
        return byteAt(lunField, 1);
    }

    public static int lun(final long lunField)
    {
        return ((byteAt(lunField, 2) << 8) | byteAt(lunField, 3)) & MAX_LUN;
    }
}
