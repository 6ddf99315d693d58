package dev.braid.perf;

import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpscArrayQueue;
import org.jctools.queues.SpscArrayQueue;

/**
 * JCTools MpscArrayQueue of preallocated entry objects. Each producer owns a pool (an SPSC queue
 * the consumer refills) of {@code capacity} entries, so nothing is allocated or boxed per message.
 */
final class JctoolsHandoff extends CompletionHandoff implements MessagePassingQueue.Consumer<JctoolsHandoff.Entry>
{
    static final class Entry
    {
        long token;
        int status;
        int length;
        final SpscArrayQueue<Entry> home;

        Entry(final SpscArrayQueue<Entry> home)
        {
            this.home = home;
        }
    }

    private final int capacity;
    private final MpscArrayQueue<Entry> queue;

    JctoolsHandoff(final int capacity)
    {
        this.capacity = capacity;
        queue = new MpscArrayQueue<>(capacity);
    }

    public Producer newProducer()
    {
        final SpscArrayQueue<Entry> pool = new SpscArrayQueue<>(capacity);
        for (int i = 0; i < capacity; i++)
        {
            pool.offer(new Entry(pool));
        }
        return new Producer()
        {
            private Entry pending;

            public boolean offer(final long token, final int status, final int length)
            {
                Entry entry = pending;
                if (entry == null)
                {
                    entry = pool.relaxedPoll();
                    if (entry == null)
                    {
                        return false;
                    }
                }
                entry.token = token;
                entry.status = status;
                entry.length = length;
                if (queue.offer(entry))
                {
                    pending = null;
                    return true;
                }
                pending = entry;
                return false;
            }
        };
    }

    public int drain(final int limit)
    {
        return queue.drain(this, limit);
    }

    public void accept(final Entry entry)
    {
        consume(entry.token, entry.status, entry.length);
        entry.home.offer(entry);
    }
}
