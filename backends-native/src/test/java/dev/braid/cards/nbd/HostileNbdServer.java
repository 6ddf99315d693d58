package dev.braid.cards.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake NBD server (test scope): a correct fixed newstyle handshake, a memory export, and one
 * chosen misbehaviour for the first READ it sees on its first connection; later connections behave.
 */
final class HostileNbdServer implements AutoCloseable
{
    enum Misbehaviour
    {
        NONE, BAD_HELLO_MAGIC, WRONG_REPLY_MAGIC, UNKNOWN_COOKIE, DUPLICATE_REPLY, OVERSIZE_CHUNK, LONGER_SIMPLE_DATA,
        SHORT_READ, HANG_UP_MID_REPLY, PREDICTED_NEXT_COOKIE, MUTATED
    }

    static final int SIZE = 1 << 20;

    private final ServerSocket listener;
    private final Misbehaviour misbehaviour;
    private final boolean structured;
    private final byte[] disk = new byte[SIZE];
    private final AtomicInteger connections = new AtomicInteger();
    private volatile boolean misbehaved;
    private long mutationSeed;

    HostileNbdServer(final Misbehaviour misbehaviour, final boolean structured) throws IOException
    {
        this.misbehaviour = misbehaviour;
        this.structured = structured;
        for (int i = 0; i < SIZE; i++)
        {
            disk[i] = (byte)(i * 7 + 3);
        }
        listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        FakeNbdHandshake.acceptLoop(listener, "hostile-nbd", (socket, n) ->
        {
            connections.incrementAndGet();
            serve(socket, n == 0);
        });
    }

    /** For MUTATED: the seed of the byte flips applied to the first read reply. */
    HostileNbdServer mutationSeed(final long seed)
    {
        mutationSeed = seed;
        return this;
    }

    String uri()
    {
        return "nbd://127.0.0.1:" + listener.getLocalPort() + "/x";
    }

    byte diskByte(final int offset)
    {
        return disk[offset];
    }

    int connections()
    {
        return connections.get();
    }

    private void serve(final Socket socket, final boolean hostile)
    {
        try (socket;
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream()))
        {
            final boolean sr = FakeNbdHandshake.negotiate(in, out,
                hostile && misbehaviour == Misbehaviour.BAD_HELLO_MAGIC ? 0x1234_5678_9ABC_DEF0L : NbdProtocol.NBDMAGIC,
                structured, SIZE, NbdProtocol.TFLAG_HAS_FLAGS | NbdProtocol.TFLAG_SEND_FLUSH);
            transmission(in, out, sr, hostile);
        }
        catch (final IOException ex)
        {
            // The client went away.
        }
    }

    private void transmission(final DataInputStream in, final DataOutputStream out, final boolean sr, final boolean hostile)
        throws IOException
    {
        for (FakeNbdHandshake.Request request; (request = FakeNbdHandshake.readRequest(in, disk)) != null; )
        {
            final int type = request.type();
            final long cookie = request.cookie();
            final int offset = (int)request.offset();
            final int length = request.length();
            if (type != NbdProtocol.CMD_READ)
            {
                simpleHeader(out, 0, cookie);
                out.flush();
                continue;
            }
            if (!hostile || misbehaved || misbehaviour == Misbehaviour.NONE)
            {
                goodRead(out, sr, cookie, offset, length);
                out.flush();
                continue;
            }
            misbehaved = true;
            switch (misbehaviour)
            {
                case WRONG_REPLY_MAGIC:
                    out.writeInt(0xDEADBEEF);
                    out.writeInt(0);
                    out.writeLong(cookie);
                    break;
                case MUTATED:
                {
                    // A valid reply with a few bytes flipped, truncated or extended, chosen by the seed.
                    final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                    goodRead(new DataOutputStream(bytes), sr, cookie, offset, length);
                    byte[] reply = bytes.toByteArray();
                    final java.util.Random random = new java.util.Random(mutationSeed);
                    final int flips = 1 + random.nextInt(4);
                    for (int i = 0; i < flips; i++)
                    {
                        // Mostly the header, where a flip changes meaning.
                        final int at = random.nextBoolean() ? random.nextInt(Math.min(28, reply.length)) : random.nextInt(reply.length);
                        reply[at] ^= (byte)(1 << random.nextInt(8));
                    }
                    final int shape = random.nextInt(4);
                    if (shape == 0)
                    {
                        reply = java.util.Arrays.copyOf(reply, random.nextInt(reply.length));
                    }
                    else if (shape == 1)
                    {
                        reply = java.util.Arrays.copyOf(reply, reply.length + 1 + random.nextInt(64));
                    }
                    out.write(reply);
                    if (shape == 0)
                    {
                        out.flush();
                        return;
                    }
                    break;
                }
                case PREDICTED_NEXT_COOKIE:
                    // The cookie this slot's next request would carry: not in flight yet.
                    simpleHeader(out, 0, cookie + (1L << 8));
                    break;
                case UNKNOWN_COOKIE:
                    goodRead(out, sr, cookie ^ (1L << 40), offset, length);
                    break;
                case DUPLICATE_REPLY:
                    goodRead(out, sr, cookie, offset, length);
                    goodRead(out, sr, cookie, offset, length);
                    break;
                case OVERSIZE_CHUNK:
                    chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_DATA, cookie, 8 + length + 4096);
                    out.writeLong(offset);
                    out.write(new byte[length + 4096]);
                    break;
                case LONGER_SIMPLE_DATA:
                    simpleHeader(out, 0, cookie);
                    out.write(disk, offset, length);
                    out.write(new byte[4096]);
                    break;
                case SHORT_READ:
                    chunkHeader(out, 0, NbdProtocol.REPLY_TYPE_OFFSET_DATA, cookie, 8 + length / 2);
                    out.writeLong(offset);
                    out.write(disk, offset, length / 2);
                    chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_NONE, cookie, 0);
                    break;
                case HANG_UP_MID_REPLY:
                    readReplyHeader(out, sr, cookie, offset, length);
                    out.write(disk, offset, length / 2);
                    out.flush();
                    return;
                default:
                    throw new IllegalStateException(misbehaviour.name());
            }
            out.flush();
        }
    }

    private void goodRead(final DataOutputStream out, final boolean sr, final long cookie, final int offset, final int length)
        throws IOException
    {
        readReplyHeader(out, sr, cookie, offset, length);
        out.write(disk, offset, length);
    }

    /** What precedes a successful read's {@code length} bytes: one OFFSET_DATA chunk (DONE), or a simple reply. */
    private static void readReplyHeader(
        final DataOutputStream out, final boolean sr, final long cookie, final int offset, final int length) throws IOException
    {
        if (sr)
        {
            chunkHeader(out, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_OFFSET_DATA, cookie, 8 + length);
            out.writeLong(offset);
        }
        else
        {
            simpleHeader(out, 0, cookie);
        }
    }

    private static void simpleHeader(final DataOutputStream out, final int error, final long cookie) throws IOException
    {
        out.writeInt(NbdProtocol.SIMPLE_REPLY_MAGIC);
        out.writeInt(error);
        out.writeLong(cookie);
    }

    private static void chunkHeader(final DataOutputStream out, final int flags, final int type, final long cookie, final int length)
        throws IOException
    {
        out.writeInt(NbdProtocol.STRUCTURED_REPLY_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeInt(length);
    }

    public void close() throws IOException
    {
        listener.close();
    }

}
