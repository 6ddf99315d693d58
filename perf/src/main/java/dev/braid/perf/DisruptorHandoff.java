package dev.braid.perf;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventPoller;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;

/**
 * LMAX Disruptor multi-producer ring of preallocated events; the consumer polls with an EventPoller
 * in its own thread (no BatchEventProcessor thread), which is how a front queue agent would use it.
 */
final class DisruptorHandoff extends CompletionHandoff implements EventPoller.Handler<DisruptorHandoff.Event>
{
    static final class Event
    {
        long token;
        int status;
        int length;
    }

    private final RingBuffer<Event> ring;
    private final EventPoller<Event> poller;
    private int limit;
    private int count;

    DisruptorHandoff(final int capacity)
    {
        ring = RingBuffer.createMultiProducer(Event::new, capacity, new BusySpinWaitStrategy());
        poller = ring.newPoller();
        ring.addGatingSequences(poller.getSequence());
    }

    public Producer newProducer()
    {
        return (token, status, length) ->
        {
            final long sequence;
            try
            {
                sequence = ring.tryNext();
            }
            catch (final InsufficientCapacityException ex)
            {
                // Disruptor signals "full" with a preallocated exception; this is its API.
                return false;
            }
            final Event event = ring.get(sequence);
            event.token = token;
            event.status = status;
            event.length = length;
            ring.publish(sequence);
            return true;
        };
    }

    public int drain(final int limit)
    {
        this.limit = limit;
        count = 0;
        try
        {
            poller.poll(this);
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
        return count;
    }

    public boolean onEvent(final Event event, final long sequence, final boolean endOfBatch)
    {
        consume(event.token, event.status, event.length);
        return ++count < limit;
    }
}
