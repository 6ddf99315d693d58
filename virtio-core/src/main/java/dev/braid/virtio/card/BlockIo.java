package dev.braid.virtio.card;

/**
 * One block request as a card sees it. Reused per in-flight slot; valid until its completion.
 */
public final class BlockIo
{
    public static final int READ = 0;
    public static final int WRITE = 1;
    public static final int FLUSH = 2;
    public static final int DISCARD = 3;
    public static final int WRITE_ZEROES = 4;

    /** Sector size of the sector field, as in virtio-blk: always 512 bytes. */
    public static final int SECTOR_SIZE = 512;

    private final IoVector data;
    private int operation;
    private long sector;
    private long sectorCount;

    public BlockIo(final int maxSegments)
    {
        data = new IoVector(maxSegments);
    }

    /** READ into, or WRITE from, the data vector; its total length is the transfer size. */
    public void set(final int operation, final long sector)
    {
        setRange(operation, sector, data.totalLength() / SECTOR_SIZE);
    }

    /** FLUSH, DISCARD or WRITE_ZEROES over a sector range (no data). */
    public void setRange(final int operation, final long sector, final long sectorCount)
    {
        this.operation = operation;
        this.sector = sector;
        this.sectorCount = sectorCount;
    }

    public int operation()
    {
        return operation;
    }

    public long sector()
    {
        return sector;
    }

    public long sectorCount()
    {
        return sectorCount;
    }

    public IoVector data()
    {
        return data;
    }

    public static String operationName(final int operation)
    {
        switch (operation)
        {
            case READ: return "read";
            case WRITE: return "write";
            case FLUSH: return "flush";
            case DISCARD: return "discard";
            case WRITE_ZEROES: return "write-zeroes";
            default: return "op-" + operation;
        }
    }
}
