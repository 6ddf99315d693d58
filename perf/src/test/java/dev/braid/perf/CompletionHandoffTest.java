package dev.braid.perf;

import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/** Checks each benchmarked hand-off delivers what it is given, so the comparison is of working code. No JMH here. */
class CompletionHandoffTest
{
    @ParameterizedTest
    @ValueSource(strings = { "braid", "jctools", "agrona", "disruptor" })
    void singleThreadDeliversEverythingInOrder(final String impl)
    {
        final CompletionHandoff handoff = CompletionHandoff.create(impl, 64);
        final CompletionHandoff.Producer producer = handoff.newProducer();
        long expected = 0;
        long token = 0;
        for (int round = 0; round < 100; round++)
        {
            int offered = 0;
            while (offered < 50 && producer.offer(token, 1, (int)token))
            {
                expected += CompletionHandoff.expectedChecksum(token, 1, (int)token);
                token++;
                offered++;
            }
            assertEquals(50, offered);
            int drained = 0;
            while (drained < 50)
            {
                drained += handoff.drain(16);
            }
            assertEquals(50, drained);
            assertEquals(0, handoff.drain(16));
        }
        assertEquals(expected, handoff.checksum());
    }

    @ParameterizedTest
    @ValueSource(strings = { "braid", "jctools", "agrona", "disruptor" })
    void twoProducersDeliverEverything(final String impl) throws InterruptedException
    {
        final CompletionHandoff handoff = CompletionHandoff.create(impl, 128);
        final int perProducer = 50_000;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread[] producers = new Thread[2];
        long expected = 0;
        for (int p = 0; p < producers.length; p++)
        {
            final CompletionHandoff.Producer producer = handoff.newProducer();
            final long base = (long)p << 32;
            for (long i = 0; i < perProducer; i++)
            {
                expected += CompletionHandoff.expectedChecksum(base + i, 0, 7);
            }
            producers[p] = new Thread(() ->
            {
                for (long i = 0; i < perProducer; i++)
                {
                    while (!producer.offer(base + i, 0, 7))
                    {
                        Thread.yield();
                    }
                }
            });
            producers[p].setUncaughtExceptionHandler((t, e) -> failure.set(e));
            producers[p].start();
        }
        long drained = 0;
        final long deadline = System.nanoTime() + 60_000_000_000L;
        while (drained < 2L * perProducer && System.nanoTime() < deadline)
        {
            final int n = handoff.drain(64);
            if (n == 0)
            {
                Thread.yield();
            }
            drained += n;
        }
        for (final Thread t : producers)
        {
            t.join();
        }
        assertNull(failure.get());
        assertEquals(2L * perProducer, drained);
        assertEquals(expected, handoff.checksum());
    }
}
