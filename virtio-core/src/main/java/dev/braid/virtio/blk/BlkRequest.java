package dev.braid.virtio.blk;

/**
 * A parsed virtio-blk request: what {@link BlkRequestParser} found in one chain. Reused from a pool;
 * every parse overwrites every field.
 *
 * <p>The data range is given as a start position (segment index into the chain and byte offset in
 * that segment) and a byte length; it runs through consecutive segments of one direction and never
 * includes the header or the status byte. For DISCARD and WRITE_ZEROES it covers the segment array.
 */
public final class BlkRequest
{
    /** Hand the request to a card; write the status byte when it completes. */
    public static final int SUBMIT = 0;
    /** Complete now: write {@link #status()} at {@link #statusGpa()}, used length 1. */
    public static final int COMPLETE = 1;
    /** Complete now with used length 0: the chain has no writable byte to put a status in. */
    public static final int COMPLETE_NO_STATUS = 2;

    private int id;
    private int outcome;
    private int status;
    private long type;
    private int ioprio;
    private long sector;
    private long statusGpa;
    private int dataSegment;
    private int dataOffset;
    private long dataLength;
    private boolean dataWritable;
    private int dwzSegmentCount;

    void reset(final int id)
    {
        this.id = id;
        outcome = COMPLETE_NO_STATUS;
        status = VirtioBlk.VIRTIO_BLK_S_IOERR;
        type = -1;
        ioprio = 0;
        sector = 0;
        statusGpa = -1;
        dataSegment = 0;
        dataOffset = 0;
        dataLength = 0;
        dataWritable = false;
        dwzSegmentCount = 0;
    }

    int completeNoStatus()
    {
        outcome = COMPLETE_NO_STATUS;
        status = VirtioBlk.VIRTIO_BLK_S_IOERR;
        return status;
    }

    int complete(final int status)
    {
        outcome = COMPLETE;
        this.status = status;
        dataLength = 0;
        dwzSegmentCount = 0;
        return status;
    }

    int submit()
    {
        outcome = SUBMIT;
        status = VirtioBlk.VIRTIO_BLK_S_OK;
        return status;
    }

    void header(final long type, final int ioprio, final long sector)
    {
        this.type = type;
        this.ioprio = ioprio;
        this.sector = sector;
    }

    void statusGpa(final long statusGpa)
    {
        this.statusGpa = statusGpa;
    }

    void data(final int segment, final int offset, final long length, final boolean writable)
    {
        dataSegment = segment;
        dataOffset = offset;
        dataLength = length;
        dataWritable = writable;
    }

    void dwzSegmentCount(final int count)
    {
        dwzSegmentCount = count;
    }

    /** The chain id to complete. */
    public int id()
    {
        return id;
    }

    /** {@link #SUBMIT}, {@link #COMPLETE} or {@link #COMPLETE_NO_STATUS}. */
    public int outcome()
    {
        return outcome;
    }

    /** VIRTIO_BLK_S_OK for a request to submit, otherwise the status to complete with. */
    public int status()
    {
        return status;
    }

    /** Unsigned request type; -1 when the header could not be read. */
    public long type()
    {
        return type;
    }

    public int ioprio()
    {
        return ioprio;
    }

    /** First sector (unsigned) for IN and OUT. */
    public long sector()
    {
        return sector;
    }

    /** Where the status byte goes; -1 with {@link #COMPLETE_NO_STATUS}. */
    public long statusGpa()
    {
        return statusGpa;
    }

    public boolean hasStatusByte()
    {
        return statusGpa >= 0;
    }

    public int dataSegment()
    {
        return dataSegment;
    }

    public int dataOffset()
    {
        return dataOffset;
    }

    public long dataLength()
    {
        return dataLength;
    }

    /** Whether the device writes the data (IN, GET_ID) or reads it (OUT, DISCARD, WRITE_ZEROES). */
    public boolean isDataWritable()
    {
        return dataWritable;
    }

    /** Number of discard / write-zeroes segments in the data range. */
    public int dwzSegmentCount()
    {
        return dwzSegmentCount;
    }

    /** Sectors covered by an IN or OUT request. */
    public long sectorCount()
    {
        return dataLength >>> VirtioBlk.SECTOR_SHIFT;
    }

    /** The used length to report when completing with {@code bytesWritten} bytes of data written. */
    public long usedLength(final long bytesWritten)
    {
        return statusGpa >= 0 ? bytesWritten + BlkDescriptor.STATUS_LENGTH : 0;
    }

    public String toString()
    {
        return "BlkRequest{id=" + id + ", outcome=" + outcome + ", status=" + status + ", type=" + type +
            ", sector=" + Long.toUnsignedString(sector) + ", data=" + dataSegment + "+" + dataOffset + "/" +
            dataLength + (dataWritable ? "w" : "r") + ", dwz=" + dwzSegmentCount + "}";
    }
}
