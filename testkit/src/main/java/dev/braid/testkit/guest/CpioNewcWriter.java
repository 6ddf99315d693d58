package dev.braid.testkit.guest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs, so the harness
 * needs no {@code cpio} peer. Each entry is a 110-byte ASCII header (magic {@code 070701} and
 * thirteen 8-digit hex fields), the NUL-terminated name, then the data, each padded to 4 bytes:
 * <pre>
 *   magic ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
 * </pre>
 * Single-threaded; the caller owns and closes the stream (after {@link #finish()}).
 */
public final class CpioNewcWriter
{
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;
    static final int S_IFCHR = 0020000;

    private static final byte[] PAD = new byte[4];

    private final OutputStream out;
    private long offset;
    private int nextInode = 1;
    private boolean finished;

    public CpioNewcWriter(final OutputStream out)
    {
        this.out = out;
    }

    public void directory(final String name, final int permissions) throws IOException
    {
        entry(name, S_IFDIR | permissions, 2, 0, 0, new byte[0]);
    }

    public void file(final String name, final int permissions, final byte[] data) throws IOException
    {
        entry(name, S_IFREG | permissions, 1, 0, 0, data);
    }

    public void symlink(final String name, final String target) throws IOException
    {
        entry(name, S_IFLNK | 0777, 1, 0, 0, target.getBytes(StandardCharsets.UTF_8));
    }

    /** A character device node, e.g. /dev/console (5,1): the kernel opens it before /init runs. */
    public void charDevice(final String name, final int permissions, final int major, final int minor)
        throws IOException
    {
        entry(name, S_IFCHR | permissions, 1, major, minor, new byte[0]);
    }

    /** Writes the trailer entry; the archive is complete afterwards. */
    public void finish() throws IOException
    {
        if (!finished)
        {
            writeHeader("TRAILER!!!", 0, 0, 1, 0, 0, 0);
            finished = true;
        }
    }

    private void entry(
        final String name, final int mode, final int nlink, final int rdevMajor, final int rdevMinor,
        final byte[] data) throws IOException
    {
        if (finished)
        {
            throw new IllegalStateException("cpio archive already finished, cannot add " + name);
        }
        if (name.isEmpty() || name.startsWith("/"))
        {
            throw new IllegalArgumentException("cpio entry name must be relative and non-empty: '" + name + "'");
        }
        writeHeader(name, nextInode++, mode, nlink, data.length, rdevMajor, rdevMinor);
        write(data);
        pad();
    }

    private void writeHeader(
        final String name, final int inode, final int mode, final int nlink, final int size,
        final int rdevMajor, final int rdevMinor) throws IOException
    {
        final byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        final StringBuilder header = new StringBuilder(110).append("070701");
        for (final int field : new int[] {
            inode, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor, nameBytes.length + 1, 0})
        {
            final String hex = Integer.toHexString(field);
            header.append("00000000", hex.length(), 8).append(hex);
        }
        write(header.toString().getBytes(StandardCharsets.US_ASCII));
        write(nameBytes);
        write(PAD, 1);
        pad();
    }

    private void write(final byte[] bytes) throws IOException
    {
        write(bytes, bytes.length);
    }

    private void write(final byte[] bytes, final int length) throws IOException
    {
        out.write(bytes, 0, length);
        offset += length;
    }

    private void pad() throws IOException
    {
        final int padding = (int)((4 - (offset & 3)) & 3);
        write(PAD, padding);
    }
}
