package dev.braid.virtio.blk;

/** Byte layouts of the virtio-blk structures; all fields little-endian. */
public final class BlkDescriptor
{
    // struct virtio_blk_req header (device-readable): le32 type, le32 reserved (ioprio), le64 sector.
    public static final int REQ_TYPE_OFFSET = 0;
    public static final int REQ_IOPRIO_OFFSET = 4;
    public static final int REQ_SECTOR_OFFSET = 8;
    public static final int REQ_HEADER_LENGTH = 16;

    /** The trailing status byte (device-writable). */
    public static final int STATUS_LENGTH = 1;

    // struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors, le32 flags.
    public static final int DWZ_SECTOR_OFFSET = 0;
    public static final int DWZ_NUM_SECTORS_OFFSET = 8;
    public static final int DWZ_FLAGS_OFFSET = 12;
    public static final int DWZ_SEGMENT_LENGTH = 16;

    // struct virtio_blk_config.
    public static final int CFG_CAPACITY_OFFSET = 0;
    public static final int CFG_SIZE_MAX_OFFSET = 8;
    public static final int CFG_SEG_MAX_OFFSET = 12;
    public static final int CFG_GEOMETRY_CYLINDERS_OFFSET = 16;
    public static final int CFG_GEOMETRY_HEADS_OFFSET = 18;
    public static final int CFG_GEOMETRY_SECTORS_OFFSET = 19;
    public static final int CFG_BLK_SIZE_OFFSET = 20;
    public static final int CFG_PHYSICAL_BLOCK_EXP_OFFSET = 24;
    public static final int CFG_ALIGNMENT_OFFSET_OFFSET = 25;
    public static final int CFG_MIN_IO_SIZE_OFFSET = 26;
    public static final int CFG_OPT_IO_SIZE_OFFSET = 28;
    public static final int CFG_WRITEBACK_OFFSET = 32;
    public static final int CFG_NUM_QUEUES_OFFSET = 34;
    public static final int CFG_MAX_DISCARD_SECTORS_OFFSET = 36;
    public static final int CFG_MAX_DISCARD_SEG_OFFSET = 40;
    public static final int CFG_DISCARD_SECTOR_ALIGNMENT_OFFSET = 44;
    public static final int CFG_MAX_WRITE_ZEROES_SECTORS_OFFSET = 48;
    public static final int CFG_MAX_WRITE_ZEROES_SEG_OFFSET = 52;
    public static final int CFG_WRITE_ZEROES_MAY_UNMAP_OFFSET = 56;
    public static final int CFG_MAX_SECURE_ERASE_SECTORS_OFFSET = 60;
    public static final int CFG_MAX_SECURE_ERASE_SEG_OFFSET = 64;
    public static final int CFG_SECURE_ERASE_SECTOR_ALIGNMENT_OFFSET = 68;
    /** Up to and including the secure-erase fields; zoned fields are not offered. */
    public static final int CFG_LENGTH = 72;

    private BlkDescriptor()
    {
    }
}
