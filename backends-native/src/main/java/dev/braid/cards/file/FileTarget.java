package dev.braid.cards.file;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The file or block device behind a file card: two descriptors (buffered, and O_DIRECT when the
 * file system allows it), its capacity, the O_DIRECT alignment, and its identity (device + inode).
 * Opened once at construction; closed by the card after its rings are gone.
 *
 * <pre>
 * struct statx (256 bytes; the fields read here)
 *   0 stx_mask u32   28 stx_mode u16   32 stx_ino u64   40 stx_size u64
 * 128 stx_rdev_major u32  132 stx_rdev_minor u32  136 stx_dev_major u32  140 stx_dev_minor u32
 * 152 stx_dio_mem_align u32  156 stx_dio_offset_align u32   (STATX_DIOALIGN, Linux 6.1)
 * </pre>
 */
final class FileTarget implements AutoCloseable
{
    private static final int STATX_LENGTH = 256;
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final int STATX_DIOALIGN = 0x2000;
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final long BLKSSZGET = 0x1268;
    private static final long BLKGETSIZE64 = 0x80081272L;

    private final String path;
    private final int bufferedFd;
    private final int directFd;
    private final String directUnavailable;
    private final boolean blockDevice;
    private final long sizeBytes;
    private final int memoryAlign;
    private final int offsetAlign;
    private final long deviceId;
    private final long inode;

    private FileTarget(
        final String path, final int bufferedFd, final int directFd, final String directUnavailable,
        final boolean blockDevice, final long sizeBytes, final int memoryAlign, final int offsetAlign,
        final long deviceId, final long inode)
    {
        this.path = path;
        this.bufferedFd = bufferedFd;
        this.directFd = directFd;
        this.directUnavailable = directUnavailable;
        this.blockDevice = blockDevice;
        this.sizeBytes = sizeBytes;
        this.memoryAlign = memoryAlign;
        this.offsetAlign = offsetAlign;
        this.deviceId = deviceId;
        this.inode = inode;
    }

    /** Opens {@code path} read-write; IllegalArgumentException with one line when it is not a usable file. */
    static FileTarget open(final String path)
    {
        final int fd = LinuxNative.open(path, LinuxNative.O_RDWR | LinuxNative.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new IllegalArgumentException("file card: cannot open " + path + ": " + LinuxNative.errnoName(LinuxNative.errno()));
        }
        int direct = -1;
        try
        {
            final ByteBuffer bytes = BufferUtil.allocateDirectAligned(STATX_LENGTH + 8, 8);
            final UnsafeBuffer stx = new UnsafeBuffer(bytes);
            final long emptyPath = stx.addressOffset() + STATX_LENGTH; // a NUL byte: statx on the fd itself
            final long rc = LinuxNative.syscall(LinuxNative.SYS_STATX, fd, emptyPath, LinuxNative.AT_EMPTY_PATH,
                STATX_BASIC_STATS | STATX_DIOALIGN, stx.addressOffset(), 0);
            if (rc < 0)
            {
                throw new IllegalArgumentException("file card: statx " + path + " failed: " + LinuxNative.errnoName(LinuxNative.errno()));
            }
            final int mask = stx.getInt(0);
            final int type = (stx.getShort(28) & 0xFFFF) & S_IFMT;
            final boolean isBlock = type == S_IFBLK;
            if (type != S_IFREG && !isBlock)
            {
                throw new IllegalArgumentException("file card: " + path + " is not a regular file or block device");
            }
            final long inode = stx.getLong(32);
            final long device = isBlock ?
                ((long)stx.getInt(128) << 32) | (stx.getInt(132) & 0xFFFF_FFFFL) :
                ((long)stx.getInt(136) << 32) | (stx.getInt(140) & 0xFFFF_FFFFL);
            long size = stx.getLong(40);
            int memAlign = (mask & STATX_DIOALIGN) != 0 ? stx.getInt(152) : 0;
            int offAlign = (mask & STATX_DIOALIGN) != 0 ? stx.getInt(156) : 0;
            if (isBlock)
            {
                if (LinuxNative.ioctl(fd, BLKGETSIZE64, stx.addressOffset()) < 0)
                {
                    throw new IllegalArgumentException("file card: BLKGETSIZE64 on " + path + " failed: " + LinuxNative.errnoName(LinuxNative.errno()));
                }
                size = stx.getLong(0);
                if (offAlign == 0 && LinuxNative.ioctl(fd, BLKSSZGET, stx.addressOffset()) == 0)
                {
                    offAlign = stx.getInt(0);
                    memAlign = offAlign;
                }
            }
            String directWhy = null;
            if (offAlign <= 0 || memAlign <= 0)
            {
                directWhy = "the file system reports no O_DIRECT alignment";
            }
            else
            {
                direct = LinuxNative.open(path, LinuxNative.O_RDWR | LinuxNative.O_CLOEXEC | LinuxNative.O_DIRECT, 0);
                if (direct < 0)
                {
                    directWhy = "open O_DIRECT failed: " + LinuxNative.errnoName(LinuxNative.errno());
                }
            }
            // Requests must be in whole sectors, so O_DIRECT never needs less than 512.
            offAlign = Math.max(offAlign, 512);
            memAlign = Math.max(memAlign, 1);
            return new FileTarget(path, fd, direct, directWhy, isBlock, size, memAlign, offAlign, device, inode);
        }
        catch (final RuntimeException ex)
        {
            if (direct >= 0)
            {
                LinuxNative.close(direct);
            }
            LinuxNative.close(fd);
            throw ex;
        }
    }

    String path()
    {
        return path;
    }

    int bufferedFd()
    {
        return bufferedFd;
    }

    /** The O_DIRECT descriptor, or -1 when the file cannot be opened so ({@link #directUnavailable()} says why). */
    int directFd()
    {
        return directFd;
    }

    String directUnavailable()
    {
        return directUnavailable;
    }

    boolean isBlockDevice()
    {
        return blockDevice;
    }

    long sizeBytes()
    {
        return sizeBytes;
    }

    /** O_DIRECT alignment of buffer addresses (stx_dio_mem_align). */
    int memoryAlign()
    {
        return memoryAlign;
    }

    /** O_DIRECT alignment of file offsets and lengths (stx_dio_offset_align, the logical block size). */
    int offsetAlign()
    {
        return offsetAlign;
    }

    long deviceId()
    {
        return deviceId;
    }

    long inode()
    {
        return inode;
    }

    /**
     * A stable serial for virtio-blk GET_ID (at most 20 bytes): the same file gives the same id on
     * every path and every run; a different device or inode gives a different one.
     */
    byte[] stableId()
    {
        final String id = Long.toHexString(deviceId) + "-" + Long.toHexString(inode);
        final byte[] bytes = id.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length <= 20)
        {
            return bytes;
        }
        final byte[] cut = new byte[20];
        System.arraycopy(bytes, bytes.length - 20, cut, 0, 20);
        return cut;
    }

    @Override
    public void close()
    {
        if (directFd >= 0)
        {
            LinuxNative.close(directFd);
        }
        LinuxNative.close(bufferedFd);
    }
}
