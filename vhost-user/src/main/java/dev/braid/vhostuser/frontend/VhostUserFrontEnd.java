package dev.braid.vhostuser.frontend;

import dev.braid.vhostuser.Libc;
import dev.braid.vhostuser.VhostUserRequest;

import dev.braid.virtio.memory.GuestMemory;
import org.agrona.concurrent.UnsafeBuffer;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.FileDescriptorCast;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;

import static dev.braid.vhostuser.VhostUserDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * The driver side of a vhost-user connection, as QEMU 7.2 is: it owns the "guest memory" (a memfd
 * it maps itself, so its user addresses differ from the back end's) and sends the messages, fds as
 * SCM_RIGHTS with the message bytes. It speaks to any vhost-user back end (Braid's,
 * qemu-storage-daemon's). Used by the protocol tests (which also send raw, malformed messages) and
 * by the load generator in perf.
 *
 * <p>Not thread-safe: one thread sends and reads replies. {@link #kick(int)} allocates nothing.
 */
public class VhostUserFrontEnd implements AutoCloseable
{
    public final int memFd;
    public final long memAddress;
    public final long memSize;
    /** The guest memory as one region at guest-physical 0. */
    public final GuestMemory memory;
    private final AFUNIXSocket socket;
    private final OutputStream out;
    private final InputStream in;
    private final byte[] buffer = new byte[HEADER_LENGTH + 4096];
    private final UnsafeBuffer view = new UnsafeBuffer(buffer);
    private final UnsafeBuffer eventValue = new UnsafeBuffer(org.agrona.BufferUtil.allocateDirectAligned(8, 8));

    public VhostUserFrontEnd(final Path socketPath, final long memSize) throws IOException
    {
        this.memSize = memSize;
        memFd = Libc.memfd_create("braid-fe", Libc.MFD_CLOEXEC);
        if (memFd < 0 || Libc.ftruncate(memFd, memSize) != 0)
        {
            throw new IOException("memfd of " + memSize + " bytes failed");
        }
        memAddress = Libc.mmap(0, memSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, memFd, 0);
        if (memAddress == Libc.MAP_FAILED)
        {
            throw new IOException("mmap failed");
        }
        memory = GuestMemory.builder().addAddress(0, memAddress, memSize, memAddress).build();
        socket = AFUNIXSocket.newInstance();
        socket.connect(AFUNIXSocketAddress.of(socketPath.toFile()));
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    /** The front end's own address for guest-physical {@code gpa}. */
    public long user(final long gpa)
    {
        return memAddress + gpa;
    }

    public static int eventfd()
    {
        return Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
    }

    /** Reads and resets an eventfd's counter (0 when nothing was written). */
    public static long drain(final int fd)
    {
        final UnsafeBuffer eight = new UnsafeBuffer(org.agrona.BufferUtil.allocateDirectAligned(8, 8));
        return Libc.read(fd, eight.addressOffset(), 8) == 8 ? eight.getLong(0, LITTLE_ENDIAN) : 0;
    }

    public void send(final int request, final int flags, final byte[] payload, final int... fds) throws IOException
    {
        final byte[] message = new byte[HEADER_LENGTH + payload.length];
        final UnsafeBuffer m = new UnsafeBuffer(message);
        m.putInt(HEADER_REQUEST_OFFSET, request, LITTLE_ENDIAN);
        m.putInt(HEADER_FLAGS_OFFSET, flags, LITTLE_ENDIAN);
        m.putInt(HEADER_SIZE_OFFSET, payload.length, LITTLE_ENDIAN);
        System.arraycopy(payload, 0, message, HEADER_LENGTH, payload.length);
        sendRaw(message, fds);
    }

    public void sendRaw(final byte[] bytes, final int... fds) throws IOException
    {
        if (fds.length > 0)
        {
            final FileDescriptor[] descriptors = new FileDescriptor[fds.length];
            for (int i = 0; i < fds.length; i++)
            {
                descriptors[i] = FileDescriptorCast.unsafeUsing(fds[i]).getFileDescriptor();
            }
            socket.setOutboundFileDescriptors(descriptors);
        }
        out.write(bytes);
        out.flush();
    }

    public void shutdownOutput() throws IOException
    {
        socket.shutdownOutput();
    }

    /** Reads one reply; returns its payload view (offset HEADER_LENGTH), or null at end of stream. */
    public UnsafeBuffer reply(final int expectedRequest) throws IOException
    {
        if (!readFully(0, HEADER_LENGTH))
        {
            return null;
        }
        final int request = view.getInt(HEADER_REQUEST_OFFSET, LITTLE_ENDIAN);
        final int flags = view.getInt(HEADER_FLAGS_OFFSET, LITTLE_ENDIAN);
        final int size = view.getInt(HEADER_SIZE_OFFSET, LITTLE_ENDIAN);
        if (request != expectedRequest || flags != (FLAGS_VERSION | FLAGS_REPLY) || size < 0 || size > 4096)
        {
            throw new IOException("bad reply to " + VhostUserRequest.name(expectedRequest) + ": request " + request +
                " flags 0x" + Integer.toHexString(flags) + " size " + size);
        }
        if (!readFully(HEADER_LENGTH, size))
        {
            return null;
        }
        return new UnsafeBuffer(buffer, 0, HEADER_LENGTH + size);
    }

    /** Whether the back end closed the connection (reads end of stream). */
    public boolean isClosedByPeer()
    {
        try
        {
            return in.read() < 0;
        }
        catch (final IOException ex)
        {
            return true; // reset: the back end closed while bytes were unread
        }
    }

    public long getU64(final int request) throws IOException
    {
        send(request, FLAGS_VERSION, new byte[0]);
        final UnsafeBuffer r = reply(request);
        if (r == null || r.capacity() != HEADER_LENGTH + 8)
        {
            throw new IOException("no u64 reply to " + VhostUserRequest.name(request));
        }
        return r.getLong(HEADER_LENGTH, LITTLE_ENDIAN);
    }

    public void setU64(final int request, final long value, final int... fds) throws IOException
    {
        send(request, FLAGS_VERSION, u64(value), fds);
    }

    /** Sends with NEED_REPLY and returns the REPLY_ACK status (0 success), or -1 when the peer closed. */
    public long acked(final int request, final byte[] payload, final int... fds) throws IOException
    {
        send(request, FLAGS_VERSION | FLAGS_NEED_REPLY, payload, fds);
        final UnsafeBuffer r = reply(request);
        return r == null ? -1 : r.getLong(HEADER_LENGTH, LITTLE_ENDIAN);
    }

    public static byte[] u64(final long value)
    {
        final byte[] b = new byte[8];
        new UnsafeBuffer(b).putLong(0, value, LITTLE_ENDIAN);
        return b;
    }

    public static byte[] state(final int index, final int num)
    {
        final byte[] b = new byte[STATE_LENGTH];
        final UnsafeBuffer u = new UnsafeBuffer(b);
        u.putInt(STATE_INDEX_OFFSET, index, LITTLE_ENDIAN);
        u.putInt(STATE_NUM_OFFSET, num, LITTLE_ENDIAN);
        return b;
    }

    public static byte[] addr(final int index, final long desc, final long used, final long avail)
    {
        final byte[] b = new byte[ADDR_LENGTH];
        final UnsafeBuffer u = new UnsafeBuffer(b);
        u.putInt(ADDR_INDEX_OFFSET, index, LITTLE_ENDIAN);
        u.putLong(ADDR_DESC_OFFSET, desc, LITTLE_ENDIAN);
        u.putLong(ADDR_USED_OFFSET, used, LITTLE_ENDIAN);
        u.putLong(ADDR_AVAIL_OFFSET, avail, LITTLE_ENDIAN);
        return b;
    }

    /** A table of regions, each {gpa, size, uva, mmap_offset}. */
    public static byte[] memTable(final long[]... regions)
    {
        final byte[] b = new byte[TABLE_REGIONS_OFFSET + regions.length * REGION_LENGTH];
        final UnsafeBuffer u = new UnsafeBuffer(b);
        u.putInt(TABLE_COUNT_OFFSET, regions.length, LITTLE_ENDIAN);
        for (int i = 0; i < regions.length; i++)
        {
            putRegion(u, TABLE_REGIONS_OFFSET + i * REGION_LENGTH, regions[i]);
        }
        return b;
    }

    public static byte[] singleRegion(final long[] region)
    {
        final byte[] b = new byte[SINGLE_REGION_LENGTH];
        putRegion(new UnsafeBuffer(b), SINGLE_REGION_OFFSET, region);
        return b;
    }

    public static byte[] config(final int offset, final int size)
    {
        final byte[] b = new byte[CONFIG_PAYLOAD_OFFSET + size];
        final UnsafeBuffer u = new UnsafeBuffer(b);
        u.putInt(CONFIG_OFFSET_OFFSET, offset, LITTLE_ENDIAN);
        u.putInt(CONFIG_SIZE_OFFSET, size, LITTLE_ENDIAN);
        return b;
    }

    private static void putRegion(final UnsafeBuffer u, final int at, final long[] region)
    {
        u.putLong(at + REGION_GPA_OFFSET, region[0], LITTLE_ENDIAN);
        u.putLong(at + REGION_SIZE_OFFSET, region[1], LITTLE_ENDIAN);
        u.putLong(at + REGION_UVA_OFFSET, region[2], LITTLE_ENDIAN);
        u.putLong(at + REGION_MMAP_OFFSET_OFFSET, region[3], LITTLE_ENDIAN);
    }

    /** The whole guest memory as one region at gpa 0. */
    public long[] wholeMemory()
    {
        return new long[] {0, memSize, memAddress, 0};
    }

    private boolean readFully(final int offset, final int length) throws IOException
    {
        int done = 0;
        while (done < length)
        {
            final int n = in.read(buffer, offset + done, length - done);
            if (n < 0)
            {
                return false;
            }
            done += n;
        }
        return true;
    }

    /** Writes 1 to an eventfd (a kick); false if the write failed. Allocates nothing. */
    public boolean kick(final int fd)
    {
        eventValue.putLong(0, 1L, LITTLE_ENDIAN);
        return Libc.write(fd, eventValue.addressOffset(), 8) == 8;
    }

    public void close() throws IOException
    {
        socket.close();
        Libc.munmap(memAddress, memSize);
        Libc.close(memFd);
    }
}
