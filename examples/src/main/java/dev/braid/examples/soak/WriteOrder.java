package dev.braid.examples.soak;

import dev.braid.aggregator.CompletionToken;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-guest-queue write order as the cards see it (queue-affine only: a spray promises no order
 * across cards). The blk guest numbers its writes in posting order, so the first submission of each
 * write to a card must carry a higher id than every earlier first submission of that guest queue.
 *
 * <p>A replay (failover, retry) resubmits the same head with the same write id before the guest
 * reaps it; remembering the last write id seen per (guest queue, head) tells it from a first
 * submission.
 *
 * <p>Order is promised across drained moves, not across a failover: a write dispatched to a card
 * that is then fenced before starting it is cancelled and replayed on another card, possibly after
 * writes posted later. Those writes are excused, not counted: at each fence, every write of a queue
 * that may have been posted and not yet started (ids up to the highest started plus the ring size,
 * which bounds what the guest has outstanding) may arrive late.
 *
 * <p>Card workers of different cards run on different threads, so state is atomic; it is
 * allocation-free per call.
 */
final class WriteOrder
{
    private final int queues;
    private final int heads;
    private final AtomicLongArray highest;
    private final AtomicLongArray lastOnHead;
    private final AtomicLongArray excusedUpTo;
    private final AtomicLong excused = new AtomicLong();
    private final AtomicLong firstSubmissions = new AtomicLong();
    private final AtomicLong outOfOrder = new AtomicLong();

    WriteOrder(final int queues, final int heads)
    {
        this.queues = queues;
        this.heads = heads;
        this.highest = new AtomicLongArray(queues);
        this.lastOnHead = new AtomicLongArray(queues * heads);
        this.excusedUpTo = new AtomicLongArray(queues);
    }

    /** A card was fenced: writes stranded on it may be replayed after later ones. */
    void fenced()
    {
        for (int q = 0; q < queues; q++)
        {
            final long upTo = highest.get(q) + heads;
            while (true)
            {
                final long current = excusedUpTo.get(q);
                if (current >= upTo || excusedUpTo.compareAndSet(q, current, upTo))
                {
                    break;
                }
            }
        }
    }

    /** Records one accepted write submission carrying {@code writeId} (ids start at 1). */
    void submitted(final long token, final long writeId)
    {
        final int queue = CompletionToken.guestQueue(token);
        final int head = CompletionToken.head(token);
        if (queue >= queues || head >= heads || writeId <= 0)
        {
            return;
        }
        // Volatile get/set: a replay may run on another card's worker than the first submission.
        final int slot = queue * heads + head;
        if (lastOnHead.get(slot) == writeId)
        {
            return;
        }
        lastOnHead.set(slot, writeId);
        firstSubmissions.incrementAndGet();
        while (true)
        {
            final long max = highest.get(queue);
            if (writeId < max)
            {
                // Volatile read: the fence that strands a write precedes its replay.
                (writeId <= excusedUpTo.get(queue) ? excused : outOfOrder).incrementAndGet();
                return;
            }
            if (highest.compareAndSet(queue, max, writeId))
            {
                return;
            }
        }
    }

    long firstSubmissions()
    {
        return firstSubmissions.get();
    }

    long outOfOrder()
    {
        return outOfOrder.get();
    }

    /** Late first submissions of writes that a fence may have stranded: allowed, reported apart. */
    long excused()
    {
        return excused.get();
    }
}
