package dev.braid.virtio.blk;

/** virtio-blk constants (virtio 1.x, "Block Device"), named as in the spec. */
public final class VirtioBlk
{
    public static final int VIRTIO_ID_BLOCK = 2;

    // Feature bits.
    public static final int VIRTIO_BLK_F_SIZE_MAX = 1;
    public static final int VIRTIO_BLK_F_SEG_MAX = 2;
    public static final int VIRTIO_BLK_F_GEOMETRY = 4;
    public static final int VIRTIO_BLK_F_RO = 5;
    public static final int VIRTIO_BLK_F_BLK_SIZE = 6;
    public static final int VIRTIO_BLK_F_FLUSH = 9;
    public static final int VIRTIO_BLK_F_TOPOLOGY = 10;
    public static final int VIRTIO_BLK_F_CONFIG_WCE = 11;
    public static final int VIRTIO_BLK_F_MQ = 12;
    public static final int VIRTIO_BLK_F_DISCARD = 13;
    public static final int VIRTIO_BLK_F_WRITE_ZEROES = 14;
    public static final int VIRTIO_BLK_F_LIFETIME = 15;
    public static final int VIRTIO_BLK_F_SECURE_ERASE = 16;
    public static final int VIRTIO_BLK_F_ZONED = 17;

    // Request types.
    public static final int VIRTIO_BLK_T_IN = 0;
    public static final int VIRTIO_BLK_T_OUT = 1;
    public static final int VIRTIO_BLK_T_FLUSH = 4;
    public static final int VIRTIO_BLK_T_GET_ID = 8;
    public static final int VIRTIO_BLK_T_GET_LIFETIME = 10;
    public static final int VIRTIO_BLK_T_DISCARD = 11;
    public static final int VIRTIO_BLK_T_WRITE_ZEROES = 13;
    public static final int VIRTIO_BLK_T_SECURE_ERASE = 14;
    public static final int VIRTIO_BLK_T_ZONE_APPEND = 15;
    public static final int VIRTIO_BLK_T_ZONE_REPORT = 16;
    public static final int VIRTIO_BLK_T_ZONE_OPEN = 18;
    public static final int VIRTIO_BLK_T_ZONE_CLOSE = 20;
    public static final int VIRTIO_BLK_T_ZONE_FINISH = 22;
    public static final int VIRTIO_BLK_T_ZONE_RESET = 24;
    public static final int VIRTIO_BLK_T_ZONE_RESET_ALL = 26;

    // Status byte values.
    public static final int VIRTIO_BLK_S_OK = 0;
    public static final int VIRTIO_BLK_S_IOERR = 1;
    public static final int VIRTIO_BLK_S_UNSUPP = 2;

    /** Discard / write-zeroes segment flag: the device may deallocate (write zeroes only). */
    public static final int VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;

    /** Bytes of the GET_ID answer (a serial number, NUL-padded, not necessarily terminated). */
    public static final int VIRTIO_BLK_ID_BYTES = 20;

    /** Requests address 512-byte sectors regardless of blk_size. */
    public static final int SECTOR_SIZE = 512;
    public static final int SECTOR_SHIFT = 9;

    private VirtioBlk()
    {
    }

    public static boolean isValidStatus(final int status)
    {
        return status == VIRTIO_BLK_S_OK || status == VIRTIO_BLK_S_IOERR || status == VIRTIO_BLK_S_UNSUPP;
    }
}
