package dev.braid.vhostuser;

import org.agrona.concurrent.UnsafeBuffer;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.FileDescriptorCast;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static dev.braid.vhostuser.VhostUserDescriptor.HEADER_LENGTH;
import static dev.braid.vhostuser.VhostUserDescriptor.HEADER_SIZE_OFFSET;
import static dev.braid.vhostuser.VhostUserDescriptor.MAX_FDS;
import static dev.braid.vhostuser.VhostUserDescriptor.MAX_PAYLOAD;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * Listens on a unix socket and serves one front end at a time (others wait in the backlog) on its
 * own thread; or, made by {@link #connect}, connects to a front end that listens (QEMU's
 * {@code server=on}) and serves that one connection. Each message's fds arrive as SCM_RIGHTS with its first bytes, read by junixsocket's
 * recvmsg together with the header; a message's fds that come with its payload, more than
 * {@link VhostUserDescriptor#MAX_FDS}, a payload over {@link VhostUserDescriptor#MAX_PAYLOAD} or a
 * hang-up mid-message close the connection with one log line. Whatever the connection ends with,
 * the back end then closes every fd and unmaps every region of it.
 */
public final class VhostUserServer implements AutoCloseable
{
    /** Room for many more fds than a message may carry, so that extra ones are seen (and closed), not cut off. */
    private static final int ANCILLARY_BUFFER = 4096;

    private final Path path;
    private final VhostUserBackend backend;
    private final Consumer<String> log;
    private final AFUNIXServerSocket server;
    private final long connectTimeoutNanos;
    private final Thread thread;
    private final byte[] message = new byte[HEADER_LENGTH + MAX_PAYLOAD];
    private final UnsafeBuffer messageBuffer = new UnsafeBuffer(message);
    private final byte[] reply = new byte[HEADER_LENGTH + MAX_PAYLOAD];
    private final UnsafeBuffer replyBuffer = new UnsafeBuffer(reply);
    private final int[] fds = new int[MAX_FDS];
    private volatile boolean closed;
    private volatile AFUNIXSocket current;
    private volatile long connections;
    private volatile boolean finished;

    /** Binds {@code path} (an existing socket file there is replaced) and starts serving. */
    public VhostUserServer(final Path path, final VhostUserBackend backend, final Consumer<String> log) throws IOException
    {
        this(path, backend, log, -1);
    }

    private VhostUserServer(final Path path, final VhostUserBackend backend, final Consumer<String> log,
        final long connectTimeoutNanos) throws IOException
    {
        this.path = path;
        this.backend = backend;
        this.log = log;
        this.connectTimeoutNanos = connectTimeoutNanos;
        if (connectTimeoutNanos < 0)
        {
            Files.deleteIfExists(path);
            server = AFUNIXServerSocket.newInstance();
            server.bind(AFUNIXSocketAddress.of(path.toFile()));
        }
        else
        {
            server = null;
        }
        thread = new Thread(connectTimeoutNanos < 0 ? this::run : this::runClient, "vhost-user " + path.getFileName());
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Connects to the front end listening on {@code path} (retrying until {@code timeoutNanos} pass,
     * for a QEMU still starting) and serves that one connection; {@link #isFinished()} once it ended.
     */
    public static VhostUserServer connect(final Path path, final VhostUserBackend backend, final Consumer<String> log,
        final long timeoutNanos) throws IOException
    {
        if (timeoutNanos < 0)
        {
            throw new IllegalArgumentException("connect timeout must be >= 0: " + timeoutNanos);
        }
        return new VhostUserServer(path, backend, log, timeoutNanos);
    }

    /** A connecting server whose one connection ended (or never came); always false for a listening one. */
    public boolean isFinished()
    {
        return finished;
    }

    public Path path()
    {
        return path;
    }

    /** How many front ends have been served to the end (connection closed and cleaned up). */
    public long connectionsServed()
    {
        return connections;
    }

    public void close() throws IOException
    {
        closed = true;
        final AFUNIXSocket socket = current;
        if (socket != null)
        {
            socket.close();
        }
        if (server != null)
        {
            // An accept() aborted by closing the server socket leaks the socket junixsocket made
            // for it (only its cleaner closes it, at some GC): end the accept with a connection.
            try (AFUNIXSocket wake = AFUNIXSocket.newInstance())
            {
                wake.connect(AFUNIXSocketAddress.of(path.toFile()));
            }
            catch (final IOException ignored)
            {
                // not listening any more: the thread is past accept
            }
        }
        try
        {
            thread.join(10_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (server != null)
        {
            server.close();
        }
        backend.close();
        if (server != null)
        {
            Files.deleteIfExists(path);
        }
    }

    private void runClient()
    {
        final long deadline = System.nanoTime() + connectTimeoutNanos;
        AFUNIXSocket socket = null;
        while (socket == null && !closed)
        {
            final AFUNIXSocket attempt;
            try
            {
                attempt = AFUNIXSocket.newInstance();
            }
            catch (final IOException ex)
            {
                log.accept("vhost-user: no socket to connect to " + path + ": " + ex.getMessage());
                finished = true;
                return;
            }
            try
            {
                attempt.connect(AFUNIXSocketAddress.of(path.toFile()));
                socket = attempt;
            }
            catch (final IOException ex)
            {
                // A failed connect leaves its socket open (connectTo() leaked one per retry).
                closeQuietly(attempt);
                if (System.nanoTime() - deadline > 0)
                {
                    log.accept("vhost-user: connect to " + path + " failed: " + ex.getMessage());
                    finished = true;
                    return;
                }
                try
                {
                    Thread.sleep(50);
                }
                catch (final InterruptedException ie)
                {
                    finished = true;
                    return;
                }
            }
        }
        if (socket != null)
        {
            log.accept("vhost-user: connected to " + path);
            serveConnection(socket);
        }
        finished = true;
    }

    private void run()
    {
        while (!closed)
        {
            final AFUNIXSocket socket;
            try
            {
                socket = server.accept();
            }
            catch (final IOException ex)
            {
                if (!closed)
                {
                    log.accept("vhost-user: accept on " + path + " failed: " + ex.getMessage());
                }
                return;
            }
            if (closed)
            {
                closeQuietly(socket); // close()'s own wake-up connection
                return;
            }
            serveConnection(socket);
        }
    }

    /** Serves one connection to its end, then the back end forgets it: fds closed, memory unmapped. */
    private void serveConnection(final AFUNIXSocket socket)
    {
        current = socket;
        try
        {
            serve(socket);
        }
        catch (final IOException ex)
        {
            if (!closed)
            {
                log.accept("vhost-user: connection failed: " + ex.getMessage());
            }
        }
        catch (final RuntimeException ex)
        {
            log.accept("vhost-user: connection dropped on an internal error: " + ex);
        }
        finally
        {
            backend.disconnect();
            try
            {
                socket.close();
            }
            catch (final IOException ignored)
            {
                // closing anyway
            }
            current = null;
            connections++;
        }
    }

    private void serve(final AFUNIXSocket socket) throws IOException
    {
        socket.setAncillaryReceiveBufferSize(ANCILLARY_BUFFER);
        final InputStream in = socket.getInputStream();
        final OutputStream out = socket.getOutputStream();
        while (!closed)
        {
            if (in.available() == 0)
            {
                backend.settle();
            }
            final int header = readFully(in, 0, HEADER_LENGTH);
            final FileDescriptor[] received = socket.getReceivedFileDescriptors();
            final int fdCount = received == null ? 0 : received.length;
            if (header < HEADER_LENGTH)
            {
                closeAll(received);
                if (header > 0)
                {
                    log.accept("vhost-user: front end hung up mid-header (" + header + " of " + HEADER_LENGTH + " bytes)");
                }
                else
                {
                    log.accept("vhost-user: front end disconnected");
                }
                return;
            }
            final int size = messageBuffer.getInt(HEADER_SIZE_OFFSET, LITTLE_ENDIAN);
            if (size < 0 || size > MAX_PAYLOAD)
            {
                closeAll(received);
                log.accept("vhost-user: payload size " + Integer.toUnsignedString(size) + " over " + MAX_PAYLOAD + "; closing");
                return;
            }
            final int payload = readFully(in, HEADER_LENGTH, size);
            final FileDescriptor[] late = socket.getReceivedFileDescriptors();
            if (payload < size || late != null && late.length > 0 || fdCount > MAX_FDS)
            {
                closeAll(received);
                closeAll(late);
                log.accept(payload < size ? "vhost-user: front end hung up mid-message (" + payload + " of " + size + " payload bytes)" :
                    "vhost-user: " + (fdCount + (late == null ? 0 : late.length)) + " fds with one message (max " + MAX_FDS + "); closing");
                return;
            }
            boolean taken = true;
            for (int i = 0; i < fdCount; i++)
            {
                fds[i] = take(received[i]);
                taken &= fds[i] >= 0;
            }
            if (!taken)
            {
                for (int i = 0; i < fdCount; i++)
                {
                    if (fds[i] >= 0)
                    {
                        Libc.close(fds[i]);
                    }
                }
                log.accept("vhost-user: out of fds taking " + fdCount + " received fds; closing");
                return;
            }
            final int result = backend.onMessage(messageBuffer, HEADER_LENGTH + size, fds, fdCount, replyBuffer);
            if (result == VhostUserBackend.CLOSE)
            {
                return;
            }
            if (result > 0)
            {
                // A round trip is a barrier: what the front end sent before it is in force when the reply arrives.
                backend.settle();
                out.write(reply, 0, result);
                out.flush();
            }
        }
    }

    /** Reads up to {@code length} bytes at {@code offset}; fewer only at end of stream. */
    private int readFully(final InputStream in, final int offset, final int length) throws IOException
    {
        int done = 0;
        while (done < length)
        {
            final int n = in.read(message, offset + done, length - done);
            if (n < 0)
            {
                break;
            }
            done += n;
        }
        return done;
    }

    /**
     * Takes a received fd over as a plain int: a close-on-exec duplicate, the original closed
     * through Java. junixsocket closes every received fd that is still valid when the socket
     * closes, so an fd kept (or closed) by number alone would be closed (again) then, possibly
     * after its number was reused. Returns -1 when no duplicate could be made (the original is closed).
     */
    private static int take(final FileDescriptor fd) throws IOException
    {
        final int number = FileDescriptorCast.using(fd).as(Integer.class);
        final int mine = Libc.fcntl(number, Libc.F_DUPFD_CLOEXEC, 0);
        new FileInputStream(fd).close();
        return mine;
    }

    private static void closeQuietly(final AFUNIXSocket socket)
    {
        try
        {
            socket.close();
        }
        catch (final IOException ignored)
        {
            // nothing more to do
        }
    }

    private static void closeAll(final FileDescriptor[] received) throws IOException
    {
        if (received == null)
        {
            return;
        }
        for (final FileDescriptor fd : received)
        {
            new FileInputStream(fd).close();
        }
    }
}
