package dev.braid.virtio.card;

/**
 * One SCSI command as an HBA sees it: I_T_L nexus, CDB, data-out or data-in, and room for sense.
 * The card writes sense bytes into {@link #sense()}; the completion status packs the SCSI status,
 * the virtio response code and the sense length ({@link #packResult}).
 */
public final class ScsiIo
{
    public static final int MAX_CDB = 32;
    public static final int MAX_SENSE = 252;

    private final byte[] cdb = new byte[MAX_CDB];
    private final byte[] sense = new byte[MAX_SENSE];
    private final IoVector dataOut;
    private final IoVector dataIn;
    private int cdbLength;
    private int target;
    private int lun;
    private long tag;

    public ScsiIo(final int maxSegments)
    {
        dataOut = new IoVector(maxSegments);
        dataIn = new IoVector(maxSegments);
    }

    public void set(final int target, final int lun, final long tag, final int cdbLength)
    {
        this.target = target;
        this.lun = lun;
        this.tag = tag;
        this.cdbLength = cdbLength;
    }

    public byte[] cdb()
    {
        return cdb;
    }

    public int cdbLength()
    {
        return cdbLength;
    }

    public byte[] sense()
    {
        return sense;
    }

    public IoVector dataOut()
    {
        return dataOut;
    }

    public IoVector dataIn()
    {
        return dataIn;
    }

    public int target()
    {
        return target;
    }

    public int lun()
    {
        return lun;
    }

    public long tag()
    {
        return tag;
    }

    /** Packs a SCSI result into a completion status: status (8 bits), response (8), sense length (16). */
    public static int packResult(final int scsiStatus, final int virtioResponse, final int senseLength)
    {
        return (scsiStatus & 0xFF) | (virtioResponse & 0xFF) << 8 | (senseLength & 0xFFFF) << 16;
    }

    public static int scsiStatus(final int packed)
    {
        return packed & 0xFF;
    }

    public static int response(final int packed)
    {
        return (packed >>> 8) & 0xFF;
    }

    public static int senseLength(final int packed)
    {
        return packed >>> 16;
    }
}
