package dev.braid.mapper;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class QueueMapPublisherTest
{
    @Test
    void epochMustGrow()
    {
        final QueueMapPublisher publisher = new QueueMapPublisher(QueueMap.builder(1).add(0, 0, 0).build(5));
        assertThrows(IllegalArgumentException.class, () -> publisher.publish(QueueMap.builder(1).build(5)));
        assertThrows(IllegalArgumentException.class, () -> publisher.publish(QueueMap.builder(1).build(4)));
        assertEquals(5, publisher.current().epoch());
        publisher.publish(QueueMap.builder(1).add(0, 1, 0).build(6));
        assertEquals(6, publisher.current().epoch());
        assertTrue(publisher.current().usesCard(1));
    }

    @Test
    void readerSeesMonotonicEpochsAndWholeMaps() throws InterruptedException
    {
        final int guestQueues = 4;
        final QueueMapPublisher publisher = new QueueMapPublisher(build(guestQueues, 1));
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicReference<String> failure = new AtomicReference<>();
        final Thread reader = new Thread(() ->
        {
            long last = 0;
            while (!done.get() && failure.get() == null)
            {
                final QueueMap map = publisher.current();
                if (map.epoch() < last)
                {
                    failure.set("epoch went back from " + last + " to " + map.epoch());
                }
                last = map.epoch();
                for (int g = 0; g < guestQueues; g++)
                {
                    // Each map routes every guest queue to card (epoch % 8): a torn map would show.
                    if (map.routeCount(g) != 1 || QueueMap.cardOf(map.route(g, 0)) != (int)(map.epoch() % 8))
                    {
                        failure.set("inconsistent map " + map);
                    }
                }
            }
        });
        reader.start();
        for (long epoch = 2; epoch < 50_000; epoch++)
        {
            publisher.publish(build(guestQueues, epoch));
        }
        done.set(true);
        reader.join();
        assertNull(failure.get());
    }

    private static QueueMap build(final int guestQueues, final long epoch)
    {
        final QueueMap.Builder builder = QueueMap.builder(guestQueues);
        for (int g = 0; g < guestQueues; g++)
        {
            builder.add(g, (int)(epoch % 8), g);
        }
        return builder.build(epoch);
    }
}
