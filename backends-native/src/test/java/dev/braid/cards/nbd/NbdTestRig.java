package dev.braid.cards.nbd;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.memory.GuestMemory;

import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Guest memory, requests and a recording sink for driving one card from a test thread. */
final class NbdTestRig
{
    static final byte POISON = (byte)0xA5;

    final GuestMemory memory;
    final ConcurrentHashMap<Long, int[]> done = new ConcurrentHashMap<>();
    final CompletionSink sink = (token, status, length) ->
    {
        if (null != done.putIfAbsent(token, new int[] {status, length}))
        {
            throw new AssertionError("token " + token + " completed twice");
        }
        return true;
    };
    private final java.util.concurrent.atomic.AtomicLong nextToken = new java.util.concurrent.atomic.AtomicLong(1);

    NbdTestRig(final long memorySize)
    {
        memory = GuestMemory.allocate(memorySize);
        memory.setMemory(0, memorySize, POISON);
    }

    long token()
    {
        return nextToken.getAndIncrement();
    }

    /** A data request over {@code segments} pieces of {@code [gpa, gpa + length)}. */
    BlockIo dataIo(final int operation, final long sector, final long gpa, final int length, final int segments)
    {
        final BlockIo io = new BlockIo(Math.max(1, segments));
        io.data().reset(memory);
        int at = 0;
        for (int i = 0; i < segments; i++)
        {
            final int piece = i == segments - 1 ? length - at : length / segments;
            io.data().add(gpa + at, piece);
            at += piece;
        }
        io.set(operation, sector);
        return io;
    }

    BlockIo rangeIo(final int operation, final long sector, final long sectors)
    {
        final BlockIo io = new BlockIo(1);
        io.data().reset(memory);
        io.setRange(operation, sector, sectors);
        return io;
    }

    /** Submits and polls until the request completes; returns {status, length}. */
    int[] run(final BlockCard card, final int queue, final BlockIo io)
    {
        final long token = token();
        assertTrue(card.submit(queue, io, token, sink), "submit refused");
        return await(card, queue, token, 20_000);
    }

    int[] await(final BlockCard card, final int queue, final long token, final long timeoutMillis)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline)
        {
            card.poll(queue);
            final int[] result = done.get(token);
            if (null != result)
            {
                return result;
            }
            Thread.onSpinWait();
        }
        fail("token " + token + " did not complete within " + timeoutMillis + " ms");
        return null;
    }

    void expectOk(final int[] result, final int length)
    {
        assertEquals(CardStatus.describe(CardStatus.OK), CardStatus.describe(result[0]), "status");
        assertEquals(length, result[1], "length");
    }

    void fill(final long gpa, final byte[] data)
    {
        memory.putBytes(gpa, data, 0, data.length);
    }

    byte[] read(final long gpa, final int length)
    {
        final byte[] out = new byte[length];
        memory.getBytes(gpa, out, 0, length);
        return out;
    }

    void poison(final long gpa, final int length)
    {
        memory.setMemory(gpa, length, POISON);
    }

    void assertPoisoned(final long gpa, final int length, final String what)
    {
        final byte[] bytes = read(gpa, length);
        for (int i = 0; i < bytes.length; i++)
        {
            if (bytes[i] != POISON)
            {
                fail(what + ": guest byte at 0x" + Long.toHexString(gpa + i) + " was written (0x" +
                    Integer.toHexString(bytes[i] & 0xFF) + ")");
            }
        }
    }

    static byte[] pattern(final long seed, final int length)
    {
        final byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

    /** The seed of a randomized test: -Dbraid.seed=N replays; printed either way. */
    static long seed(final String test)
    {
        final String fixed = System.getProperty("braid.seed");
        final long seed = null != fixed ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(test + ": seed " + seed + " (replay with -Dbraid.seed=" + seed + ")");
        return seed;
    }

    /** Waits until {@code condition} holds, at most {@code seconds}; fails naming {@code what}. */
    static void waitUntil(final BooleanSupplier condition, final String what, final long seconds) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(1);
        }
    }
}
