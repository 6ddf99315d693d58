package dev.braid.cards.nbd;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The drain of a fenced or failed connection against a server whose every reply the test writes
 * ({@link ScriptedNbdServer}): what it waits for (only what the server was sent), how long (each
 * drain its own bound) and what a held write completes with (the server's answer, every chunk of it).
 */
class NbdDrainTest
{
    private static final int LENGTH = 4096;

    private final NbdTestRig rig = new NbdTestRig(1 << 20);

    private NbdCardContext context(final ScriptedNbdServer server)
    {
        return new NbdCardContext().uri(server.uri()).name("drain").queueCount(1).queueDepth(8)
            .reconnectBackoff(5, 50, TimeUnit.MILLISECONDS);
    }

    private BlockIo write(final int index)
    {
        rig.fill(index * (long)LENGTH, NbdTestRig.pattern(index, LENGTH));
        return rig.dataIo(BlockIo.WRITE, index * (LENGTH / 512L), index * (long)LENGTH, LENGTH, 1);
    }

    private long submit(final NbdBlockCard card, final BlockIo io, final boolean kick)
    {
        final long token = rig.token();
        assertTrue(card.submit(0, io, token, rig.sink), "submit refused");
        if (kick)
        {
            card.poll(0);
        }
        return token;
    }

    /**
     * A worker that encodes a write while a failure begins a drain can queue it after the drain's
     * last send and before the connection is dead: the drain then sees the slot in flight, but its
     * bytes are dropped, never sent. Here the event loop writing the drain's last request starts
     * that write itself, at exactly that point. The drain must not wait for (nor hold) what the
     * server never got.
     */
    @Test
    void aWriteQueuedAfterTheDrainsLastSendIsNotWaitedFor() throws Exception
    {
        try (ScriptedNbdServer server = new ScriptedNbdServer(false).autoAnswer(r -> r.type != NbdProtocol.CMD_READ);
            NbdBlockCard card = NbdBlockCard.open(context(server).requestTimeout(200, TimeUnit.MILLISECONDS)
                .writeDrainTimeout(3, TimeUnit.SECONDS)))
        {
            // A read the server never answers: its timeout fails the (still connected) path.
            final long read = submit(card, rig.dataIo(BlockIo.READ, 512, 512 * 512, LENGTH, 1), true);
            server.next(5_000);
            final BlockIo late = write(2);
            final long[] lateToken = {-1};
            final AtomicBoolean armed = new AtomicBoolean(true);
            card.connectionsForTest()[0].channel().pipeline().addFirst(new ChannelOutboundHandlerAdapter()
            {
                public void write(final ChannelHandlerContext ctx, final Object msg, final ChannelPromise promise)
                {
                    if (armed.compareAndSet(true, false))
                    {
                        final long token = rig.token();
                        lateToken[0] = card.submit(0, late, token, rig.sink) ? token : -2;
                    }
                    ctx.write(msg, promise);
                }
            });
            // Encoded but not kicked: the failure's drain sends it (and the handler starts the late write).
            final long first = submit(card, write(1), false);

            // After the failure's event loop task (the reconnect comes later): what the loop did as the
            // queue's worker is visible to this thread, the queue's worker again.
            waitUntil(() -> card.reconnectCount() >= 1, "the read's timeout and the reconnect");
            rig.expectOk(rig.await(card, 0, first, 5_000), LENGTH);
            assertFalse(armed.get(), "the drain sent the first write");
            assertTrue(lateToken[0] > 0, "the late write was started on the event loop");
            final int[] lateResult = rig.await(card, 0, lateToken[0], 10_000);
            assertEquals(CardStatus.describe(CardStatus.IO_ERROR), CardStatus.describe(lateResult[0]));
            assertEquals(0, card.lateWriteRisks(), "the drain waited for a write that was never sent");
            assertEquals(1, card.drainedWrites());
            for (final ScriptedNbdServer.Request r : server.seen())
            {
                assertFalse(r.type == NbdProtocol.CMD_WRITE && r.offset == 2L * LENGTH, "the late write was sent: " + r);
            }
            assertEquals(CardStatus.describe(CardStatus.IO_ERROR), CardStatus.describe(rig.await(card, 0, read, 5_000)[0]));
        }
    }

    /**
     * A path fails with a write the server holds (drain A), reconnects, takes a new write the server
     * also holds, and is fenced (drain B). A's bound must not end B: the fence's drain has its own.
     */
    @Test
    void aLaterDrainIsNotEndedByAnEarlierDrainsDeadline() throws Exception
    {
        try (ScriptedNbdServer server = new ScriptedNbdServer(false).autoAnswer(r -> false);
            NbdBlockCard card = NbdBlockCard.open(context(server).requestTimeout(150, TimeUnit.MILLISECONDS)
                .writeDrainTimeout(1200, TimeUnit.MILLISECONDS)))
        {
            final long first = submit(card, write(1), true);
            server.next(5_000);
            waitUntil(() -> null != card.lastFailure(), "the held write's timeout");
            // Drain A has begun; its bound ends it about 1200 ms from now.
            waitUntil(card::isLinkUp, "the reconnect");
            Thread.sleep(500);
            final long second = submit(card, write(2), true);
            final ScriptedNbdServer.Request secondOnServer = server.next(5_000);
            card.beginFence();
            assertEquals(CardStatus.describe(CardStatus.CANCELLED), CardStatus.describe(rig.await(card, 0, second, 5_000)[0]));
            assertFalse(card.isFenceComplete(), "the fence drains the write its server holds");

            waitUntil(() -> card.lateWriteRisks() >= 1, "drain A's deadline");
            assertEquals(CardStatus.describe(CardStatus.IO_ERROR), CardStatus.describe(rig.await(card, 0, first, 5_000)[0]));
            Thread.sleep(100);
            assertFalse(card.isFenceComplete(), "drain B ended at drain A's deadline, 700 ms early");
            assertEquals(1, card.lateWriteRisks());

            secondOnServer.simple(0);
            waitUntil(card::isFenceComplete, "drain B to see its write answered");
            assertEquals(1, card.drainedWrites());
            assertEquals(1, card.lateWriteRisks());
        }
    }

    /**
     * A failed path holds a write for its server's answer. The answer is an error chunk (without
     * NBD_REPLY_FLAG_DONE), then NBD_REPLY_TYPE_NONE with DONE: per proto.md NONE means success only
     * "if no earlier error chunks were sent". The error is the answer, whether its chunk came before
     * the failure (the decoder had it) or in the drain.
     */
    @ParameterizedTest(name = "error chunk before the failure: {0}")
    @ValueSource(booleans = {false, true})
    void aHeldWriteKeepsAnErrorChunkThatPrecedesItsFinalChunk(final boolean errorBeforeFailure) throws Exception
    {
        try (ScriptedNbdServer server = new ScriptedNbdServer(true).autoAnswer(r -> false);
            NbdBlockCard card = NbdBlockCard.open(context(server).requestTimeout(200, TimeUnit.MILLISECONDS)
                .writeDrainTimeout(3, TimeUnit.SECONDS)))
        {
            assertTrue(card.structuredReplies());
            final long token = submit(card, write(1), true);
            final ScriptedNbdServer.Request w = server.next(5_000);
            if (errorBeforeFailure)
            {
                w.errorChunk(0, NbdProtocol.EIO);
            }
            waitUntil(() -> null != card.lastFailure(), "the held write's timeout");
            if (!errorBeforeFailure)
            {
                w.errorChunk(0, NbdProtocol.EIO);
            }
            w.chunk(NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_NONE, new byte[0]);
            final int[] result = rig.await(card, 0, token, 5_000);
            assertEquals(CardStatus.describe(CardStatus.IO_ERROR), CardStatus.describe(result[0]), "the server failed the write");
            assertEquals(1, card.drainedWrites());
            assertEquals(0, card.lateWriteRisks());
        }
    }

    /** A held write the server refuses as invalid completes as the same answer would on a live path. */
    @Test
    void aHeldWriteCompletesWithTheStatusItsErrorMeans() throws Exception
    {
        try (ScriptedNbdServer server = new ScriptedNbdServer(false).autoAnswer(r -> false);
            NbdBlockCard card = NbdBlockCard.open(context(server).requestTimeout(200, TimeUnit.MILLISECONDS)
                .writeDrainTimeout(3, TimeUnit.SECONDS)))
        {
            final long token = submit(card, write(1), true);
            final ScriptedNbdServer.Request w = server.next(5_000);
            waitUntil(() -> null != card.lastFailure(), "the held write's timeout");
            w.simple(NbdProtocol.EINVAL);
            assertEquals(CardStatus.describe(CardStatus.INVALID), CardStatus.describe(rig.await(card, 0, token, 5_000)[0]));
        }
    }

    /**
     * A fence that catches a reply half read goes on reading it only to find the next reply: the rest
     * of the read's data never reaches guest memory, and the drain still sees the write answered.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"simple read data", "structured read data", "structured error chunk"})
    void aReplyHalfReadWhenTheFenceBeginsIsSkippedToTheNext(final String shape) throws Exception
    {
        final boolean structured = !shape.startsWith("simple");
        try (ScriptedNbdServer server = new ScriptedNbdServer(structured).autoAnswer(r -> false);
            NbdBlockCard card = NbdBlockCard.open(context(server).writeDrainTimeout(5, TimeUnit.SECONDS)))
        {
            final long gpa = 64 * LENGTH;
            final long read = submit(card, rig.dataIo(BlockIo.READ, 512, gpa, LENGTH, 1), true);
            final ScriptedNbdServer.Request r = server.next(5_000);
            final long written = submit(card, write(1), true);
            final ScriptedNbdServer.Request w = server.next(5_000);
            final java.nio.ByteBuffer first;
            final byte[] rest;
            if (shape.equals("structured error chunk"))
            {
                // The write's error chunk: header and 2 of its 6 payload bytes, then the fence.
                first = java.nio.ByteBuffer.allocate(NbdProtocol.CHUNK_HEADER_LENGTH + 2).putInt(NbdProtocol.STRUCTURED_REPLY_MAGIC)
                    .putShort((short)NbdProtocol.REPLY_FLAG_DONE).putShort((short)(NbdProtocol.REPLY_TYPE_ERROR_BIT | 1))
                    .putLong(w.cookie).putInt(6).putShort((short)0);
                rest = new byte[] {0, NbdProtocol.EIO, 0, 0};
            }
            else
            {
                final int header = structured ? NbdProtocol.CHUNK_HEADER_LENGTH + 8 : NbdProtocol.SIMPLE_REPLY_LENGTH;
                first = java.nio.ByteBuffer.allocate(header + LENGTH / 2);
                if (structured)
                {
                    first.putInt(NbdProtocol.STRUCTURED_REPLY_MAGIC).putShort((short)NbdProtocol.REPLY_FLAG_DONE)
                        .putShort((short)NbdProtocol.REPLY_TYPE_OFFSET_DATA).putLong(r.cookie).putInt(8 + LENGTH).putLong(r.offset);
                }
                else
                {
                    first.putInt(NbdProtocol.SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.cookie);
                }
                rest = new byte[LENGTH / 2];
            }
            (shape.equals("structured error chunk") ? w : r).raw(first.array());
            if (!shape.equals("structured error chunk"))
            {
                // The first half reached guest memory: the reply is half read.
                waitUntil(() -> rig.read(gpa + LENGTH / 2 - 1, 1)[0] != NbdTestRig.POISON, "the first half of the read");
            }
            else
            {
                Thread.sleep(100); // time to read the chunk header (if not, the drain reads it: the same outcome)
            }
            card.beginFence();
            rig.poison(gpa, LENGTH);
            (shape.equals("structured error chunk") ? w : r).raw(rest);
            if (!shape.equals("structured error chunk"))
            {
                // The next reply: the write's answer, which ends the drain (the error chunk was the write's).
                w.simple(0);
            }
            waitUntil(card::isFenceComplete, "the drain to see the write answered");
            assertEquals(1, card.drainedWrites());
            assertEquals(0, card.lateWriteRisks());
            rig.assertPoisoned(gpa, LENGTH, "the read's buffer after the fence");
            assertEquals(CardStatus.describe(CardStatus.CANCELLED), CardStatus.describe(rig.await(card, 0, read, 5_000)[0]));
            assertEquals(CardStatus.describe(CardStatus.CANCELLED), CardStatus.describe(rig.await(card, 0, written, 5_000)[0]));
            assertEquals(null, card.lastFailure(), "the drain found every reply");
        }
    }

    private static void waitUntil(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        NbdTestRig.waitUntil(condition, what, 10);
    }
}
