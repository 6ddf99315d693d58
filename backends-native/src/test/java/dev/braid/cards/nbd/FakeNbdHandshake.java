package dev.braid.cards.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.function.BiConsumer;

/**
 * What the fake NBD servers of the tests share ({@link HostileNbdServer}, {@link ScriptedNbdServer}):
 * an accept loop with a daemon thread per connection, and the server side of the fixed newstyle
 * handshake over a memory export.
 */
final class FakeNbdHandshake
{
    private FakeNbdHandshake()
    {
    }

    /** One transmission-phase request as a fake server reads it. */
    record Request(int type, long cookie, long offset, int length)
    {
    }

    /**
     * Reads the next request; a write's payload goes into {@code disk} at its offset. Null when the
     * client ends the session (NBD_CMD_DISC) or sends something that is not a request.
     */
    static Request readRequest(final DataInputStream in, final byte[] disk) throws IOException
    {
        if (in.readInt() != NbdProtocol.REQUEST_MAGIC)
        {
            return null;
        }
        in.readShort();
        final int type = in.readShort();
        final long cookie = in.readLong();
        final long offset = in.readLong();
        final int length = in.readInt();
        if (type == NbdProtocol.CMD_DISC)
        {
            return null;
        }
        if (type == NbdProtocol.CMD_WRITE)
        {
            in.readFully(disk, (int)offset, length);
        }
        return new Request(type, cookie, offset, length);
    }

    /** Accepts until {@code listener} closes; each connection is served, with its number (0 first), on its own thread. */
    static void acceptLoop(final ServerSocket listener, final String name, final BiConsumer<Socket, Integer> serve)
    {
        final Thread acceptor = new Thread(() ->
        {
            int count = 0;
            while (!listener.isClosed())
            {
                try
                {
                    final Socket socket = listener.accept();
                    final int n = count++;
                    final Thread t = new Thread(() -> serve.accept(socket, n), name + "-" + n);
                    t.setDaemon(true);
                    t.start();
                }
                catch (final IOException ex)
                {
                    return;
                }
            }
        }, name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * The handshake up to NBD_OPT_GO's acknowledgement, hello magic {@code helloMagic}, for an export
     * of {@code size} bytes with {@code transmissionFlags}; returns whether structured replies were
     * agreed (offered when {@code structured}). Throws when the client leaves the protocol.
     */
    static boolean negotiate(final DataInputStream in, final DataOutputStream out, final long helloMagic, final boolean structured,
        final long size, final int transmissionFlags) throws IOException
    {
        out.writeLong(helloMagic);
        out.writeLong(NbdProtocol.IHAVEOPT);
        out.writeShort(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
        out.flush();
        in.readInt();
        boolean agreed = false;
        while (true)
        {
            if (in.readLong() != NbdProtocol.IHAVEOPT)
            {
                throw new IOException("not an option");
            }
            final int option = in.readInt();
            in.skipNBytes(in.readInt());
            if (option == NbdProtocol.OPT_STRUCTURED_REPLY)
            {
                agreed = structured;
                optionReply(out, option, structured ? NbdProtocol.REP_ACK : NbdProtocol.REP_FLAG_ERROR | 1, new byte[0]);
            }
            else if (option == NbdProtocol.OPT_GO)
            {
                final ByteBuffer info = ByteBuffer.allocate(12);
                info.putShort((short)NbdProtocol.INFO_EXPORT).putLong(size).putShort((short)transmissionFlags);
                optionReply(out, option, NbdProtocol.REP_INFO, info.array());
                optionReply(out, option, NbdProtocol.REP_ACK, new byte[0]);
                return agreed;
            }
            else
            {
                optionReply(out, option, NbdProtocol.REP_FLAG_ERROR | 1, new byte[0]);
            }
        }
    }

    private static void optionReply(final DataOutputStream out, final int option, final int type, final byte[] data) throws IOException
    {
        out.writeLong(NbdProtocol.OPTION_REPLY_MAGIC);
        out.writeInt(option);
        out.writeInt(type);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }
}
