package dev.braid.cards.nbd;

import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.memory.GuestMemory;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.Promise;
import org.agrona.collections.Long2LongHashMap;
import io.netty.util.concurrent.ScheduledFuture;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.braid.cards.nbd.NbdProtocol.*;

/**
 * One NBD connection of an {@link NbdBlockCard}: the fixed newstyle handshake, then the reply
 * decoder of the transmission phase, which writes read data straight from Netty's receive buffer
 * into the request's guest buffers.
 *
 * <h2>Threading</h2>
 * Everything here runs on the card's event loop, except {@link #dead} (volatile, read by the card
 * workers before they send) and {@link #channel()}. Guest memory is written only here, only for a
 * cookie whose slot is SUBMITTED on a queue this connection serves, only inside that request's byte
 * range, and never once {@link #dead} is set: a fence that sets it on the event loop is therefore
 * the last word on this connection's writes into guest memory.
 *
 * <h2>Draining</h2>
 * A dead connection that is still open can drain ({@link #beginDrain}): it keeps reading replies,
 * only to learn which of the writes it had sent the server has finished, never touching guest
 * memory, and closes once every write is answered, the server hangs up, or the card's deadline
 * ends the drain. A server that already read a write finishes it whether or not the client is
 * still there; the drain is what tells the card that such a write can no longer land after its
 * replay on another path.
 */
final class NbdConnection extends ByteToMessageDecoder
{
    private static final int H_HELLO = 0;
    private static final int H_OPTION_REPLY = 1;
    private static final int T_HEADER = 2;
    private static final int T_SIMPLE_DATA = 3;
    private static final int T_CHUNK_OFFSET = 4;
    private static final int T_CHUNK_DATA = 5;
    private static final int T_CHUNK_HOLE = 6;
    private static final int T_CHUNK_ERROR = 7;
    private static final int T_DEAD = 8;

    private final NbdBlockCard card;
    private final int index;
    private int connectionCount = 1;
    private final NbdCardQueue[] queues;
    private final String exportName;
    private final boolean wantStructured;
    private final Promise<NbdConnection> handshake;
    private final UnsafeBuffer scratch = new UnsafeBuffer(0, 0);

    volatile boolean dead;
    private Channel channel;
    private int state = H_HELLO;

    // drain (event loop): cookie -> error << 48 | command << 32 | length of each request sent and
    // unanswered; error is the first NBD error a chunk of its reply carried (0: none yet).
    private static final long NO_COOKIE = 0;
    private static final int D_HEADER = 0;
    private static final int D_SKIP = 1;
    /** An error chunk's payload: its 32-bit error first, then the rest skipped. */
    private static final int D_ERROR = 2;
    /** Why a drain ended: every write answered, the server hung up, its deadline, a reply it could not place, the card closed. */
    static final int DRAINED = 0;
    static final int DRAIN_HANG_UP = 1;
    static final int DRAIN_DEADLINE = 2;
    static final int DRAIN_BAD_REPLY = 3;
    static final int DRAIN_CLOSED = 4;
    private Long2LongHashMap drainTable;
    private ScheduledFuture<?> drainDeadline;
    private int drainWrites;
    private int drainState;
    private long drainSkip;
    /** The reply being skipped, and whether its chunk is the last one (the request is then answered). */
    private long drainCookie;
    private boolean drainDone;

    // handshake
    private int pendingOption;
    private boolean structured;
    private long sizeBytes = -1;
    private int transmissionFlags;
    private int minimumBlock = 1;
    private int preferredBlock = 4096;
    private int maximumPayload = DEFAULT_MAX_PAYLOAD;
    private NbdExport export;

    // reply in progress
    private NbdCardQueue replyQueue;
    private int replySlot;
    private int chunkFlags;
    private long chunkLength;
    private long dataOffset;
    private long dataRemaining;

    NbdConnection(
        final NbdBlockCard card,
        final int index,
        final NbdCardQueue[] queues,
        final String exportName,
        final boolean wantStructured,
        final Promise<NbdConnection> handshake)
    {
        this.card = card;
        this.index = index;
        this.queues = queues;
        this.exportName = exportName;
        this.wantStructured = wantStructured;
        this.handshake = handshake;
    }

    int index()
    {
        return index;
    }

    /** Event loop, before the card publishes the connection: it serves queues {@code q % count == index}. */
    void serve(final int count)
    {
        connectionCount = count;
    }

    Channel channel()
    {
        return channel;
    }

    /** The export as negotiated; null until the handshake is done. */
    NbdExport export()
    {
        return export;
    }

    // ---------------------------------------------------------------- lifecycle (event loop)

    public void channelActive(final ChannelHandlerContext ctx) throws Exception
    {
        channel = ctx.channel();
        super.channelActive(ctx);
    }

    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        channel = ctx.channel();
    }

    public void channelInactive(final ChannelHandlerContext ctx) throws Exception
    {
        if (null != drainTable)
        {
            endDrain(DRAIN_HANG_UP);
        }
        fail(describeHangUp());
        super.channelInactive(ctx);
    }

    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        if (null != drainTable)
        {
            endDrain(DRAIN_HANG_UP);
            return;
        }
        fail("connection error: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }

    /** Marks the connection dead without reporting (the card is closing all of them). Event loop. */
    void kill()
    {
        dead = true;
        if (null != drainTable)
        {
            endDrain(DRAIN_CLOSED);
            return;
        }
        state = T_DEAD;
        if (null != channel)
        {
            channel.close();
        }
        if (!handshake.isDone())
        {
            handshake.tryFailure(new IOException("connection closed during the handshake"));
        }
    }

    private void fail(final String reason)
    {
        if (dead)
        {
            return;
        }
        final boolean handshaking = !handshake.isDone();
        if (handshaking)
        {
            handshake.tryFailure(new IOException(reason));
        }
        kill();
        if (!handshaking)
        {
            card.onConnectionFailed(this, reason);
        }
    }

    private String describeHangUp()
    {
        switch (state)
        {
            case H_HELLO:
            case H_OPTION_REPLY:
                return "server closed the connection during the handshake";
            case T_SIMPLE_DATA:
            case T_CHUNK_DATA:
                return "server closed the connection mid-reply: short read, " + dataRemaining + " bytes missing";
            case T_CHUNK_OFFSET:
            case T_CHUNK_HOLE:
            case T_CHUNK_ERROR:
                return "server closed the connection mid-reply (inside a structured chunk)";
            default:
                return "server closed the connection";
        }
    }

    // ---------------------------------------------------------------- decoding (event loop)

    protected void decode(final ChannelHandlerContext ctx, final ByteBuf in, final List<Object> out)
    {
        if (null != drainTable)
        {
            decodeDrain(in);
            return;
        }
        while (!dead && in.isReadable())
        {
            final boolean progress;
            switch (state)
            {
                case H_HELLO: progress = onHello(ctx, in); break;
                case H_OPTION_REPLY: progress = onOptionReply(ctx, in); break;
                case T_HEADER: progress = onReplyHeader(in); break;
                case T_SIMPLE_DATA: progress = onSimpleData(in); break;
                case T_CHUNK_OFFSET: progress = onChunkOffset(in); break;
                case T_CHUNK_DATA: progress = onChunkData(in); break;
                case T_CHUNK_HOLE: progress = onChunkHole(in); break;
                case T_CHUNK_ERROR: progress = onChunkError(in); break;
                default: in.skipBytes(in.readableBytes()); return;
            }
            if (!progress)
            {
                return;
            }
        }
        if (dead)
        {
            in.skipBytes(in.readableBytes());
        }
    }

    private boolean onHello(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        if (in.readableBytes() < 18)
        {
            return false;
        }
        final long magic = in.readLong();
        final long optMagic = in.readLong();
        final int flags = in.readUnsignedShort();
        if (magic != NBDMAGIC)
        {
            fail("bad server magic 0x" + Long.toHexString(magic) + " (not an NBD server)");
            return false;
        }
        if (optMagic != IHAVEOPT)
        {
            fail("server speaks oldstyle or unknown negotiation (magic 0x" + Long.toHexString(optMagic) + ")");
            return false;
        }
        if ((flags & FLAG_FIXED_NEWSTYLE) == 0)
        {
            fail("server lacks fixed newstyle negotiation (handshake flags 0x" + Integer.toHexString(flags) + ")");
            return false;
        }
        final ByteBuf reply = ctx.alloc().buffer(4);
        reply.writeInt(FLAG_C_FIXED_NEWSTYLE | (flags & FLAG_NO_ZEROES) & FLAG_C_NO_ZEROES);
        ctx.write(reply);
        if (wantStructured)
        {
            sendOption(ctx, OPT_STRUCTURED_REPLY, null);
        }
        else
        {
            sendGo(ctx);
        }
        ctx.flush();
        state = H_OPTION_REPLY;
        return true;
    }

    private void sendOption(final ChannelHandlerContext ctx, final int option, final ByteBuf data)
    {
        final int length = null == data ? 0 : data.readableBytes();
        final ByteBuf header = ctx.alloc().buffer(16);
        header.writeLong(IHAVEOPT).writeInt(option).writeInt(length);
        ctx.write(header);
        if (null != data)
        {
            ctx.write(data);
        }
        pendingOption = option;
    }

    private void sendGo(final ChannelHandlerContext ctx)
    {
        final byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        final ByteBuf data = ctx.alloc().buffer(4 + name.length + 4);
        data.writeInt(name.length).writeBytes(name).writeShort(1).writeShort(INFO_BLOCK_SIZE);
        sendOption(ctx, OPT_GO, data);
    }

    private boolean onOptionReply(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        if (in.readableBytes() < 20)
        {
            return false;
        }
        final long length = in.getUnsignedInt(in.readerIndex() + 16);
        if (length > MAX_OPTION_REPLY)
        {
            fail("option reply of " + length + " bytes is larger than " + MAX_OPTION_REPLY);
            return false;
        }
        if (in.readableBytes() < 20 + length)
        {
            return false;
        }
        final long magic = in.readLong();
        final int option = in.readInt();
        final int type = in.readInt();
        in.skipBytes(4);
        final int end = in.readerIndex() + (int)length;
        if (magic != OPTION_REPLY_MAGIC)
        {
            fail("bad option reply magic 0x" + Long.toHexString(magic));
            return false;
        }
        if (option != pendingOption)
        {
            fail("reply to option " + option + " while option " + pendingOption + " is pending");
            return false;
        }
        if (option == OPT_STRUCTURED_REPLY)
        {
            in.readerIndex(end);
            if (type != REP_ACK && (type & REP_FLAG_ERROR) == 0)
            {
                fail("unexpected " + optionReplyName(type) + " to NBD_OPT_STRUCTURED_REPLY");
                return false;
            }
            structured = type == REP_ACK;
            sendGo(ctx);
            ctx.flush();
            return true;
        }
        if (type == REP_INFO)
        {
            if (length < 2)
            {
                fail("NBD_REP_INFO of " + length + " bytes");
                return false;
            }
            final int info = in.readUnsignedShort();
            if (info == INFO_EXPORT)
            {
                if (length != 12)
                {
                    fail("NBD_INFO_EXPORT of " + length + " bytes, expected 12");
                    return false;
                }
                sizeBytes = in.readLong();
                transmissionFlags = in.readUnsignedShort();
                if (sizeBytes < 0)
                {
                    fail("export size " + Long.toUnsignedString(sizeBytes) + " is too large");
                    return false;
                }
            }
            else if (info == INFO_BLOCK_SIZE)
            {
                if (length != 14)
                {
                    fail("NBD_INFO_BLOCK_SIZE of " + length + " bytes, expected 14");
                    return false;
                }
                final long min = in.readUnsignedInt();
                final long preferred = in.readUnsignedInt();
                final long max = in.readUnsignedInt();
                if (min < 1 || min > 65536 || Long.bitCount(min) != 1 || preferred < min || max < min)
                {
                    fail("bad NBD_INFO_BLOCK_SIZE min=" + min + " preferred=" + preferred + " max=" + max);
                    return false;
                }
                minimumBlock = (int)min;
                preferredBlock = (int)Math.min(preferred, 1 << 30);
                maximumPayload = (int)Math.min(max, 1 << 30);
            }
            in.readerIndex(end);
            return true;
        }
        if (type == REP_ACK)
        {
            in.readerIndex(end);
            if (sizeBytes < 0)
            {
                fail("server acknowledged NBD_OPT_GO without NBD_INFO_EXPORT");
                return false;
            }
            if ((transmissionFlags & TFLAG_HAS_FLAGS) == 0)
            {
                fail("transmission flags 0x" + Integer.toHexString(transmissionFlags) + " lack NBD_FLAG_HAS_FLAGS");
                return false;
            }
            export = new NbdExport(sizeBytes, transmissionFlags, minimumBlock, preferredBlock, maximumPayload, structured);
            state = T_HEADER;
            handshake.trySuccess(this);
            return true;
        }
        final String message = in.toString(in.readerIndex(), end - in.readerIndex(), StandardCharsets.UTF_8)
            .replace('\n', ' ');
        in.readerIndex(end);
        fail("server refused export '" + exportName + "': " + optionReplyName(type) + (message.isEmpty() ? "" : ": " + message));
        return false;
    }

    /** Finds the slot a reply names; fails the connection and returns -1 for a cookie not in flight here. */
    private int lookup(final long cookie)
    {
        final int q = NbdCookie.queue(cookie);
        if (NbdCookie.tagged(cookie) && q < queues.length && q % connectionCount == index)
        {
            final int slot = queues[q].slotIn(cookie, NbdCardQueue.SUBMITTED);
            if (slot >= 0)
            {
                replyQueue = queues[q];
                replySlot = slot;
                return slot;
            }
        }
        fail("reply for unknown cookie 0x" + Long.toHexString(cookie));
        return -1;
    }

    private boolean onReplyHeader(final ByteBuf in)
    {
        if (in.readableBytes() < 4)
        {
            return false;
        }
        final int magic = in.getInt(in.readerIndex());
        if (magic == SIMPLE_REPLY_MAGIC)
        {
            if (in.readableBytes() < SIMPLE_REPLY_LENGTH)
            {
                return false;
            }
            in.skipBytes(4);
            final int error = in.readInt();
            final long cookie = in.readLong();
            final int slot = lookup(cookie);
            if (slot < 0)
            {
                return false;
            }
            final int command = replyQueue.command[slot];
            if (command == CMD_READ && export.structuredReplies())
            {
                fail("simple reply to a read (cookie 0x" + Long.toHexString(cookie) + ") after structured replies were negotiated");
                return false;
            }
            if (error != 0)
            {
                replyQueue.completeFromEventLoop(slot, statusOf(error), 0);
            }
            else if (command == CMD_READ)
            {
                dataOffset = 0;
                dataRemaining = replyQueue.length[slot];
                state = T_SIMPLE_DATA;
            }
            else
            {
                replyQueue.completeFromEventLoop(slot, CardStatus.OK, command == CMD_WRITE ? (int)replyQueue.length[slot] : 0);
            }
            return true;
        }
        if (magic == STRUCTURED_REPLY_MAGIC)
        {
            if (!export.structuredReplies())
            {
                fail("structured reply chunk although structured replies were not negotiated");
                return false;
            }
            if (in.readableBytes() < CHUNK_HEADER_LENGTH)
            {
                return false;
            }
            in.skipBytes(4);
            chunkFlags = in.readUnsignedShort();
            final int type = in.readUnsignedShort();
            final long cookie = in.readLong();
            chunkLength = in.readUnsignedInt();
            final int slot = lookup(cookie);
            if (slot < 0)
            {
                return false;
            }
            final boolean read = replyQueue.command[slot] == CMD_READ;
            if (type == REPLY_TYPE_NONE)
            {
                if (chunkLength != 0 || (chunkFlags & REPLY_FLAG_DONE) == 0)
                {
                    fail("NBD_REPLY_TYPE_NONE chunk with length " + chunkLength + " flags 0x" + Integer.toHexString(chunkFlags));
                    return false;
                }
                finish();
            }
            else if (type == REPLY_TYPE_OFFSET_DATA && read && chunkLength >= 9)
            {
                state = T_CHUNK_OFFSET;
            }
            else if (type == REPLY_TYPE_OFFSET_HOLE && read && chunkLength == 12)
            {
                state = T_CHUNK_HOLE;
            }
            else if ((type & REPLY_TYPE_ERROR_BIT) != 0 && chunkLength >= 6 && chunkLength <= MAX_ERROR_CHUNK)
            {
                state = T_CHUNK_ERROR;
            }
            else
            {
                fail("unexpected chunk type " + type + " of " + chunkLength + " bytes for a " +
                    (read ? "read" : "command " + replyQueue.command[slot]));
                return false;
            }
            return true;
        }
        fail("bad reply magic 0x" + Integer.toHexString(magic));
        return false;
    }

    private boolean onSimpleData(final ByteBuf in)
    {
        final int n = (int)Math.min(in.readableBytes(), dataRemaining);
        toGuest(in, n);
        if (dataRemaining == 0)
        {
            replyQueue.completeFromEventLoop(replySlot, CardStatus.OK, (int)replyQueue.length[replySlot]);
            state = T_HEADER;
        }
        return true;
    }

    private boolean onChunkOffset(final ByteBuf in)
    {
        if (in.readableBytes() < 8)
        {
            return false;
        }
        final long offset = in.readLong();
        final long dataLength = chunkLength - 8;
        final long relative = checkRange(offset, dataLength);
        if (relative < 0)
        {
            return false;
        }
        dataOffset = relative;
        dataRemaining = dataLength;
        state = T_CHUNK_DATA;
        return true;
    }

    private boolean onChunkData(final ByteBuf in)
    {
        final int n = (int)Math.min(in.readableBytes(), dataRemaining);
        toGuest(in, n);
        replyQueue.received[replySlot] += n;
        if (dataRemaining == 0)
        {
            chunkDone();
        }
        return true;
    }

    private boolean onChunkHole(final ByteBuf in)
    {
        if (in.readableBytes() < 12)
        {
            return false;
        }
        final long offset = in.readLong();
        final long holeLength = in.readUnsignedInt();
        if (holeLength == 0)
        {
            fail("hole chunk of length 0");
            return false;
        }
        final long relative = checkRange(offset, holeLength);
        if (relative < 0)
        {
            return false;
        }
        intoGuest(null, relative, holeLength);
        replyQueue.received[replySlot] += holeLength;
        chunkDone();
        return true;
    }

    private boolean onChunkError(final ByteBuf in)
    {
        if (in.readableBytes() < chunkLength)
        {
            return false;
        }
        final int end = in.readerIndex() + (int)chunkLength;
        final int error = in.readInt();
        final int messageLength = in.readUnsignedShort();
        if (messageLength > chunkLength - 6)
        {
            fail("error chunk message of " + messageLength + " bytes in a chunk of " + chunkLength);
            return false;
        }
        in.readerIndex(end);
        replyQueue.replyError[replySlot] = error == 0 ? EIO : error;
        chunkDone();
        return true;
    }

    /** Offset of a chunk inside its request, or -1 after failing the connection when it lies outside. */
    private long checkRange(final long offset, final long length)
    {
        final long start = replyQueue.offset[replySlot];
        final long asked = replyQueue.length[replySlot];
        final long relative = offset - start;
        if (offset < 0 || relative < 0 || relative > asked || length > asked - relative)
        {
            fail("chunk [" + Long.toUnsignedString(offset) + ", +" + length + ") outside the request [" + start + ", +" + asked + ")");
            return -1;
        }
        return relative;
    }

    private void chunkDone()
    {
        state = T_HEADER;
        if (replyQueue.received[replySlot] > replyQueue.length[replySlot])
        {
            fail("chunks of " + replyQueue.received[replySlot] + " bytes for a read of " + replyQueue.length[replySlot]);
            return;
        }
        if ((chunkFlags & REPLY_FLAG_DONE) != 0)
        {
            finish();
        }
    }

    private void finish()
    {
        state = T_HEADER;
        final NbdCardQueue q = replyQueue;
        final int slot = replySlot;
        final int command = q.command[slot];
        if (q.replyError[slot] != 0)
        {
            q.completeFromEventLoop(slot, statusOf(q.replyError[slot]), 0);
        }
        else if (command == CMD_READ && q.received[slot] != q.length[slot])
        {
            fail("short read: " + q.received[slot] + " of " + q.length[slot] + " bytes");
        }
        else
        {
            q.completeFromEventLoop(slot, CardStatus.OK, command == CMD_READ || command == CMD_WRITE ? (int)q.length[slot] : 0);
        }
    }

    private static int statusOf(final int nbdError)
    {
        switch (nbdError)
        {
            case EINVAL:
            case EOVERFLOW:
                return CardStatus.INVALID;
            case ENOTSUP:
                return CardStatus.UNSUPPORTED;
            default:
                return CardStatus.IO_ERROR;
        }
    }

    // ---------------------------------------------------------------- drain (event loop)

    /** Whether this connection is open and past its handshake: one that can still answer what it was sent. */
    boolean canDrain()
    {
        return !dead && state != T_DEAD && state >= T_HEADER && null != channel && channel.isActive();
    }

    /**
     * Marks the connection dead for guest memory and starts draining, for at most {@code timeoutNanos}:
     * from here its replies are only counted. {@link #track} then names each request sent on it and
     * unanswered; {@link #endDrainIfIdle} closes it at once when none of them writes.
     */
    void beginDrain(final long timeoutNanos)
    {
        dead = true;
        drainTable = new Long2LongHashMap(NO_COOKIE);
        drainWrites = 0;
        drainDone = false;
        // A reply half read goes on being read, but only to find the next one.
        switch (state)
        {
            case T_SIMPLE_DATA:
                drainState = D_SKIP;
                drainSkip = dataRemaining;
                drainCookie = replyQueue.cookie[replySlot];
                drainDone = true;
                break;
            case T_CHUNK_OFFSET:
            case T_CHUNK_HOLE:
            case T_CHUNK_ERROR:
            case T_CHUNK_DATA:
                drainState = state == T_CHUNK_ERROR ? D_ERROR : D_SKIP;
                drainSkip = state == T_CHUNK_DATA ? dataRemaining : chunkLength;
                drainCookie = replyQueue.cookie[replySlot];
                drainDone = (chunkFlags & REPLY_FLAG_DONE) != 0;
                break;
            default:
                drainState = D_HEADER;
        }
        state = T_DEAD;
        // Each drain its own bound: one begun later is not cut short by an earlier one's.
        drainDeadline = channel.eventLoop().schedule(() -> endDrain(DRAIN_DEADLINE), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A request sent on this connection and in flight when the drain began; {@code error} is an NBD
     * error an earlier chunk of its reply already carried (0: none).
     */
    void track(final long cookie, final int command, final long length, final int error)
    {
        drainTable.put(cookie, (long)errorBits(error) << 48 | (long)command << 32 | (length & 0xFFFF_FFFFL));
        if (isWrite(command))
        {
            drainWrites++;
        }
    }

    /** Ends the drain when nothing it waits for writes; returns whether the drain is still going. */
    boolean endDrainIfIdle()
    {
        if (null != drainTable && drainWrites == 0)
        {
            endDrain(DRAINED);
        }
        return null != drainTable;
    }

    boolean isDraining()
    {
        return null != drainTable;
    }

    /** Writes the server was sent and has not answered yet (0 when not draining). */
    int drainWrites()
    {
        return null == drainTable ? 0 : drainWrites;
    }

    private static boolean isWrite(final int command)
    {
        return command == CMD_WRITE || command == CMD_WRITE_ZEROES || command == CMD_TRIM;
    }

    /** An NBD error as the 16 bits a drain entry keeps (errno values; anything else is EIO). */
    private static int errorBits(final int error)
    {
        return error == 0 ? 0 : error > 0 && error <= 0xFFFF ? error : EIO;
    }

    private void decodeDrain(final ByteBuf in)
    {
        while (null != drainTable && (in.isReadable() || drainStepsWithoutBytes()))
        {
            if (drainState == D_ERROR)
            {
                if (drainSkip >= 4)
                {
                    if (in.readableBytes() < 4)
                    {
                        return;
                    }
                    recordError(drainCookie, in.readInt());
                    drainSkip -= 4;
                }
                else
                {
                    recordError(drainCookie, EIO);
                }
                drainState = D_SKIP;
                continue;
            }
            if (drainState == D_SKIP)
            {
                final int n = (int)Math.min(in.readableBytes(), drainSkip);
                in.skipBytes(n);
                drainSkip -= n;
                if (drainSkip > 0)
                {
                    return;
                }
                drainState = D_HEADER;
                if (drainDone)
                {
                    answered(drainCookie, 0);
                }
                continue;
            }
            if (in.readableBytes() < 4)
            {
                return;
            }
            final int magic = in.getInt(in.readerIndex());
            if (magic == SIMPLE_REPLY_MAGIC)
            {
                if (in.readableBytes() < SIMPLE_REPLY_LENGTH)
                {
                    return;
                }
                in.skipBytes(4);
                final int error = in.readInt();
                final long cookie = in.readLong();
                final long entry = drainTable.get(cookie);
                if (entry == NO_COOKIE)
                {
                    endDrain(DRAIN_BAD_REPLY);
                    return;
                }
                if ((int)(entry >>> 32 & 0xFFFF) == CMD_READ && error == 0)
                {
                    drainState = D_SKIP;
                    drainSkip = entry & 0xFFFF_FFFFL;
                    drainCookie = cookie;
                    drainDone = true;
                    continue;
                }
                answered(cookie, error);
            }
            else if (magic == STRUCTURED_REPLY_MAGIC)
            {
                if (in.readableBytes() < CHUNK_HEADER_LENGTH)
                {
                    return;
                }
                in.skipBytes(4);
                final int flags = in.readUnsignedShort();
                final int type = in.readUnsignedShort();
                final long cookie = in.readLong();
                final long length = in.readUnsignedInt();
                if (!drainTable.containsKey(cookie))
                {
                    endDrain(DRAIN_BAD_REPLY);
                    return;
                }
                // An error chunk need not be the last: NBD_REPLY_TYPE_NONE after it does not mean success.
                drainState = (type & REPLY_TYPE_ERROR_BIT) != 0 ? D_ERROR : D_SKIP;
                drainSkip = length;
                drainCookie = cookie;
                drainDone = (flags & REPLY_FLAG_DONE) != 0;
            }
            else
            {
                endDrain(DRAIN_BAD_REPLY);
                return;
            }
        }
        if (null == drainTable)
        {
            in.skipBytes(in.readableBytes());
        }
    }

    /** Whether the drain can take a step on no more bytes: a chunk of length 0 (NONE), or an error chunk too short for its error. */
    private boolean drainStepsWithoutBytes()
    {
        return drainState == D_SKIP ? drainSkip == 0 : drainState == D_ERROR && drainSkip < 4;
    }

    /** Keeps the first error a chunk of {@code cookie}'s reply carried, for its answer. */
    private void recordError(final long cookie, final int error)
    {
        final long entry = drainTable.get(cookie);
        if (entry != NO_COOKIE && (entry >>> 48) == 0)
        {
            drainTable.put(cookie, entry | (long)errorBits(error == 0 ? EIO : error) << 48);
        }
    }

    private void answered(final long cookie, final int error)
    {
        final long entry = drainTable.remove(cookie);
        if (entry == NO_COOKIE)
        {
            endDrain(DRAIN_BAD_REPLY);
            return;
        }
        final int command = (int)(entry >>> 32 & 0xFFFF);
        final int answer = 0 != error ? error : (int)(entry >>> 48);
        if (isWrite(command))
        {
            drainWrites--;
            // A request the card held back for this answer completes with it, as on a live connection.
            card.onDrainedWrite(cookie, answer == 0 ? CardStatus.OK : statusOf(answer),
                command == CMD_WRITE ? (int)(entry & 0xFFFF_FFFFL) : 0);
        }
        if (drainWrites == 0)
        {
            endDrain(DRAINED);
        }
    }

    /** Ends the drain for {@code reason}: closes the connection and tells the card what stayed unanswered. */
    void endDrain(final int reason)
    {
        final Long2LongHashMap table = drainTable;
        if (null == table)
        {
            return;
        }
        drainTable = null;
        state = T_DEAD;
        if (null != drainDeadline)
        {
            drainDeadline.cancel(false);
            drainDeadline = null;
        }
        if (null != channel)
        {
            channel.close();
        }
        card.onDrainEnded(this, reason, drainWrites, table);
    }

    // ---------------------------------------------------------------- guest memory (event loop)

    /** Copies {@code n} readable bytes into the current request's vector at {@link #dataOffset}. */
    private void toGuest(final ByteBuf in, final int n)
    {
        intoGuest(in, dataOffset, n);
        in.skipBytes(n);
        dataOffset += n;
        dataRemaining -= n;
    }

    /**
     * Writes {@code length} bytes at {@code offset} of the current request's vector, split at its
     * segments: the next readable bytes of {@code in}, or zeros (a hole) when {@code in} is null.
     */
    private void intoGuest(final ByteBuf in, final long offset, final long length)
    {
        final IoVector vector = replyQueue.io[replySlot].data();
        final GuestMemory memory = vector.memory();
        long skip = offset;
        long done = 0;
        for (int i = 0, count = vector.count(); i < count && done < length; i++)
        {
            final long segment = vector.length(i) & 0xFFFF_FFFFL;
            if (skip >= segment)
            {
                skip -= segment;
                continue;
            }
            final long chunk = Math.min(segment - skip, length - done);
            if (null == in)
            {
                memory.setMemory(vector.address(i) + skip, chunk, (byte)0);
            }
            else
            {
                NbdBuffers.wrap(scratch, in, in.readerIndex() + (int)done, (int)chunk);
                memory.putBytes(vector.address(i) + skip, scratch, 0, (int)chunk);
            }
            done += chunk;
            skip = 0;
        }
    }
}
