package dev.braid.virtio.scsi.emulator;

/** Fixed-format sense data (SPC-4 4.5.3): layout and a writer. */
public final class ScsiSense
{
    /** Current error, fixed format. */
    public static final int RESPONSE_CODE_CURRENT_FIXED = 0x70;
    public static final int LENGTH = 18;

    public static final int RESPONSE_CODE_OFFSET = 0;
    public static final int SENSE_KEY_OFFSET = 2;
    public static final int ADDITIONAL_LENGTH_OFFSET = 7;
    public static final int ASC_OFFSET = 12;
    public static final int ASCQ_OFFSET = 13;

    private ScsiSense()
    {
    }

    /**
     * Writes fixed sense at {@code offset}: current error, {@code senseKey}, ASC/ASCQ, no information
     * field. Returns the length written: 18, or less when {@code dst} has less room (then truncated).
     */
    public static int write(final byte[] dst, final int offset, final int senseKey, final int asc, final int ascq)
    {
        final int length = Math.max(0, Math.min(LENGTH, dst.length - offset));
        for (int i = 0; i < length; i++)
        {
            final int value;
            switch (i)
            {
                case RESPONSE_CODE_OFFSET: value = RESPONSE_CODE_CURRENT_FIXED; break;
                case SENSE_KEY_OFFSET: value = senseKey & 0x0F; break;
                case ADDITIONAL_LENGTH_OFFSET: value = LENGTH - 8; break;
                case ASC_OFFSET: value = asc; break;
                case ASCQ_OFFSET: value = ascq; break;
                default: value = 0; break;
            }
            dst[offset + i] = (byte)value;
        }
        return length;
    }

    public static int senseKey(final byte[] sense)
    {
        return sense[SENSE_KEY_OFFSET] & 0x0F;
    }

    public static int asc(final byte[] sense)
    {
        return sense[ASC_OFFSET] & 0xFF;
    }

    public static int ascq(final byte[] sense)
    {
        return sense[ASCQ_OFFSET] & 0xFF;
    }
}
