package dev.braid.aggregator;

import dev.braid.virtio.card.CompletionSink;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The sink a card reports into during one fence generation of its {@link CardPort}. A fence
 * closes the gate before it asks the card to fence, and for good; the port opens a new gate for
 * the next generation. Whatever the card reports through a closed gate, a zombie's answer however
 * late or a cancel, is dropped here, whatever its token's bits say.
 *
 * <p>Why a report that passes is the truth: a card reports only once it is done with the buffers
 * ({@link CompletionSink}), and a report that reads the gate open was made before the fence
 * closed it, so before the card was asked to fence. Requests the fence caught are replayed by
 * their front queues once the generation moves.
 *
 * <p>Any card thread may call {@link #complete}; {@link #close} is called by the control thread.
 */
final class CompletionGate implements CompletionSink
{
    private final CompletionSink device;
    private final int generation;
    private final AtomicLong dropped;
    private volatile boolean open = true;

    CompletionGate(final CompletionSink device, final int generation, final AtomicLong dropped)
    {
        this.device = device;
        this.generation = generation;
        this.dropped = dropped;
    }

    public boolean complete(final long token, final int status, final int length)
    {
        // A token of another generation was never given to the card through this gate: a lie.
        if (!open || !CompletionToken.isGeneration(token, generation))
        {
            dropped.incrementAndGet();
            return true;
        }
        return device.complete(token, status, length);
    }

    int generation()
    {
        return generation;
    }

    boolean isOpen()
    {
        return open;
    }

    void close()
    {
        open = false;
    }
}
