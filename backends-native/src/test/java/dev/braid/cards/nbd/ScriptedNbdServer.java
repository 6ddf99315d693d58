package dev.braid.cards.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A fake NBD server (test scope) whose replies the test writes: a correct fixed newstyle handshake
 * over a memory export, then every request it reads is either answered at once ({@link #autoAnswer},
 * a plain OK) or handed to the test ({@link #next}), which answers it when and how it likes, in
 * simple or structured replies, or in raw bytes. Writes reach the disk when they are read, as on a
 * server that finishes what it has read whatever its client does.
 */
final class ScriptedNbdServer implements AutoCloseable
{
    static final int SIZE = 1 << 20;

    /** One request as read from the wire. */
    final class Request
    {
        final int connection;
        final int type;
        final long cookie;
        final long offset;
        final int length;
        private final DataOutputStream out;

        Request(final int connection, final int type, final long cookie, final long offset, final int length, final DataOutputStream out)
        {
            this.connection = connection;
            this.type = type;
            this.cookie = cookie;
            this.offset = offset;
            this.length = length;
            this.out = out;
        }

        /** OK: a read's data in one chunk when structured replies were negotiated, else a simple reply. */
        void ok() throws IOException
        {
            if (structured && type == NbdProtocol.CMD_READ)
            {
                final ByteBuffer payload = ByteBuffer.allocate(8 + length).putLong(offset).put(disk, (int)offset, length);
                chunk(NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_DATA, payload.array());
            }
            else
            {
                simple(0);
            }
        }

        /** A simple reply with {@code error}; a read's data follows when error is 0. */
        void simple(final int error) throws IOException
        {
            final ByteBuffer b = ByteBuffer.allocate(NbdProtocol.SIMPLE_REPLY_LENGTH + (type == NbdProtocol.CMD_READ && error == 0 ? length : 0));
            b.putInt(NbdProtocol.SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
            if (type == NbdProtocol.CMD_READ && error == 0)
            {
                b.put(disk, (int)offset, length);
            }
            raw(b.array());
        }

        /** One structured chunk of {@code type} carrying {@code payload}. */
        void chunk(final int flags, final int chunkType, final byte[] payload) throws IOException
        {
            final ByteBuffer b = ByteBuffer.allocate(NbdProtocol.CHUNK_HEADER_LENGTH + payload.length);
            b.putInt(NbdProtocol.STRUCTURED_REPLY_MAGIC).putShort((short)flags).putShort((short)chunkType)
                .putLong(cookie).putInt(payload.length).put(payload);
            raw(b.array());
        }

        /** An NBD_REPLY_TYPE_ERROR chunk with {@code error} and no message. */
        void errorChunk(final int flags, final int error) throws IOException
        {
            chunk(flags, NbdProtocol.REPLY_TYPE_ERROR_BIT | 1, ByteBuffer.allocate(6).putInt(error).putShort((short)0).array());
        }

        void raw(final byte[] bytes) throws IOException
        {
            synchronized (out)
            {
                out.write(bytes);
                out.flush();
            }
        }

        public String toString()
        {
            return "request type " + type + " offset " + offset + " length " + length + " on connection " + connection;
        }
    }

    final byte[] disk = new byte[SIZE];
    private final ServerSocket listener;
    private final boolean structured;
    private final CopyOnWriteArrayList<Socket> sockets = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<Request> held = new LinkedBlockingQueue<>();
    private final CopyOnWriteArrayList<Request> seen = new CopyOnWriteArrayList<>();
    private volatile Predicate<Request> autoAnswer = r -> true;

    ScriptedNbdServer(final boolean structured) throws IOException
    {
        this.structured = structured;
        listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        FakeNbdHandshake.acceptLoop(listener, "scripted-nbd", (socket, n) ->
        {
            sockets.add(socket);
            serve(socket, n);
        });
    }

    String uri()
    {
        return "nbd://127.0.0.1:" + listener.getLocalPort() + "/x";
    }

    /** Which requests the server answers at once with OK; the others wait for the test ({@link #next}). */
    ScriptedNbdServer autoAnswer(final Predicate<Request> which)
    {
        autoAnswer = which;
        return this;
    }

    /** The next request the server did not answer itself. */
    Request next(final long timeoutMillis) throws InterruptedException
    {
        final Request r = held.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        if (null == r)
        {
            throw new AssertionError("no request reached the server within " + timeoutMillis + " ms");
        }
        return r;
    }

    /** Every request read so far, on every connection. */
    java.util.List<Request> seen()
    {
        return java.util.List.copyOf(seen);
    }

    private void serve(final Socket socket, final int connection)
    {
        try (socket;
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream()))
        {
            FakeNbdHandshake.negotiate(in, out, NbdProtocol.NBDMAGIC, structured, SIZE, NbdProtocol.TFLAG_HAS_FLAGS |
                NbdProtocol.TFLAG_SEND_FLUSH | NbdProtocol.TFLAG_SEND_TRIM | NbdProtocol.TFLAG_SEND_WRITE_ZEROES);
            for (FakeNbdHandshake.Request q; (q = FakeNbdHandshake.readRequest(in, disk)) != null; )
            {
                final Request r = new Request(connection, q.type(), q.cookie(), q.offset(), q.length(), out);
                seen.add(r);
                if (autoAnswer.test(r))
                {
                    r.ok();
                }
                else
                {
                    held.add(r);
                }
            }
        }
        catch (final IOException ex)
        {
            // The client went away.
        }
    }

    public void close() throws IOException
    {
        listener.close();
        for (final Socket socket : sockets)
        {
            socket.close();
        }
    }
}
