package dev.braid.mapper.ring;

import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Producers and one consumer on real threads: every element arrives exactly once, each producer's
 * elements in its order, payloads whole. Elements are {@code producer << 40 | sequence}.
 */
@ExtendWith(SeedExtension.class)
class RingConcurrencyTest
{
    private static final int PRODUCER_SHIFT = 40;

    @ParameterizedTest
    @ValueSource(ints = { 2, 3, 4 })
    void completionRingManyProducers(final int producers, final Seed seed) throws InterruptedException
    {
        rounds(producers, seed, (capacity, checker) ->
        {
            final ManyToOneCompletionRing ring = new ManyToOneCompletionRing(capacity);
            return new Ring(
                (p, value) -> ring.offer(value, p, (int)value * 3),
                limit -> ring.drain((token, status, length) ->
                {
                    if (status != (int)(token >>> PRODUCER_SHIFT) || length != (int)token * 3)
                    {
                        throw new AssertionError("torn completion token=" + token + " status=" + status +
                            " length=" + length + " " + seed);
                    }
                    checker.accept(token);
                }, limit));
        });
    }

    @ParameterizedTest
    @ValueSource(ints = { 2, 3, 4 })
    void submissionRingManyProducers(final int producers, final Seed seed) throws InterruptedException
    {
        rounds(producers, seed, (capacity, checker) ->
        {
            final ManyToOneSubmissionRing ring = new ManyToOneSubmissionRing(capacity);
            return new Ring((p, value) -> ring.offer(value), limit -> ring.drain(checker::accept, limit));
        });
    }

    /** Per round: a ring of random capacity, a random element count per producer, all checked. */
    private static void rounds(final int producers, final Seed seed, final BiFunction<Integer, Checker, Ring> newRing)
        throws InterruptedException
    {
        final Random random = new Random(seed.value());
        for (int round = 0; round < rounds(); round++)
        {
            final int capacity = 1 << (1 + random.nextInt(8));
            final Checker checker = new Checker(producers, seed.value());
            final Ring ring = newRing.apply(capacity, checker);
            run(producers, random.nextInt(20_000) + 1_000, random.nextLong(), ring.offer(), ring.drain(), checker);
        }
    }

    /** How a round reaches the ring under test. */
    record Ring(Offer offer, Drain drain)
    {
    }

    private static int rounds()
    {
        return Math.max(1, Seed.configuredSeeds() / 100);
    }

    interface Offer
    {
        boolean offer(int producer, long value);
    }

    interface Drain
    {
        int drain(int limit);
    }

    /** Consumer-side bookkeeping: next expected sequence per producer. */
    static final class Checker
    {
        final long[] next;
        final long seed;

        Checker(final int producers, final long seed)
        {
            next = new long[producers];
            this.seed = seed;
        }

        void accept(final long value)
        {
            final int producer = (int)(value >>> PRODUCER_SHIFT);
            final long sequence = value & ((1L << PRODUCER_SHIFT) - 1);
            if (producer >= next.length || sequence != next[producer])
            {
                throw new AssertionError("producer " + producer + " sent " + sequence + ", expected " +
                    (producer < next.length ? next[producer] : -1) + " seed=" + seed);
            }
            next[producer]++;
        }
    }

    private static void run(final int producers, final int perProducer, final long roundSeed, final Offer offer,
        final Drain drain, final Checker checker) throws InterruptedException
    {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread[] threads = new Thread[producers];
        for (int p = 0; p < producers; p++)
        {
            final int producer = p;
            threads[p] = new Thread(() ->
            {
                final Random random = new Random(roundSeed + producer);
                for (long i = 0; i < perProducer; i++)
                {
                    while (!offer.offer(producer, (long)producer << PRODUCER_SHIFT | i))
                    {
                        Thread.yield();
                    }
                    if (random.nextInt(1024) == 0)
                    {
                        Thread.yield();
                    }
                }
            }, "producer-" + p);
            threads[p].setUncaughtExceptionHandler((t, e) -> failure.set(e));
            threads[p].start();
        }

        final Random random = new Random(roundSeed);
        final long total = (long)producers * perProducer;
        long received = 0;
        final long deadline = System.nanoTime() + 120_000_000_000L;
        while (received < total && failure.get() == null)
        {
            final int n = drain.drain(1 + random.nextInt(64));
            received += n;
            if (n == 0)
            {
                Thread.yield();
                assertTrue(System.nanoTime() < deadline, "stalled at " + received + "/" + total);
            }
        }
        for (final Thread t : threads)
        {
            t.join();
        }
        assertNull(failure.get());
        assertEquals(total, received);
        assertEquals(0, drain.drain(Integer.MAX_VALUE), "an element arrived twice or late");
        for (final long n : checker.next)
        {
            assertEquals(perProducer, n);
        }
    }
}
