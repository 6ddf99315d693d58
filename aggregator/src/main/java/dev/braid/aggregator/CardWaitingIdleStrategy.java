package dev.braid.aggregator;

import dev.braid.virtio.card.Card;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.IdleStrategy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The idle strategy of one agent thread that runs card workers. When a whole duty cycle of the
 * thread found no work and exactly one of its card workers may wait ({@link CardWorker#canWaitInCard}:
 * its card has requests outstanding, nothing to report, and can sleep for them, {@link Card#canWait}),
 * the thread sleeps in that card until the first completion, at most the device's card wait
 * ({@link DeviceContext#cardWaitNanos}), instead of spinning or backing off: a completion then wakes
 * the thread as it wakes a blocking fio, where a spinning thread on a loaded machine queues for the
 * CPU behind every other runnable one. Otherwise the thread idles with the strategy it was given.
 *
 * <p><b>Ordering, once.</b> The sleep comes after the thread's duty cycle, so after each worker
 * acknowledged its fence generation and never between a cycle's generation read and its submits: it
 * starts no request (it only hands the kernel what an admitted submit prepared and reaps), so it stands
 * outside {@link CardPort}'s fence protocol; a fence or an unfence catch-up is delayed by a sleep at
 * most. Right before it sleeps it looks again at every worker of the thread: one with a queued
 * submission, control request or refused cancel ({@link CardWorker#hasQueuedWork}) means no sleep, and
 * the one that would sleep must hold no pulled buffer and its card must not be fenced. What arrives after that look (another thread's submission or completion, a guest
 * request for a front queue of this thread) waits for the card's first completion or the timeout, as
 * it waits out a back-off park; a fence begun after it waits out the sleep inside the card's
 * {@code fence()} (the file card's busy mark), at most the timeout. Two workers of the thread that
 * could both wait mean no sleep: one sleeping card would hold the other's completions for the timeout.
 *
 * <p>Agent thread only, but for {@link #add} (any thread: a hot-added worker that runs on this thread).
 */
public final class CardWaitingIdleStrategy implements IdleStrategy
{
    private final IdleStrategy idle;
    private volatile CardWorker<?>[] workers;
    private long cardWaits;

    /**
     * @param threadAgents the agents the thread runs: their card workers are the cards it may wait in.
     * @param idle         how the thread idles otherwise.
     */
    public CardWaitingIdleStrategy(final List<? extends Agent> threadAgents, final IdleStrategy idle)
    {
        final List<CardWorker<?>> found = new ArrayList<>();
        for (final Agent agent : threadAgents)
        {
            if (agent instanceof CardWorker<?> worker)
            {
                found.add(worker);
            }
        }
        this.workers = found.toArray(new CardWorker<?>[0]);
        this.idle = idle;
    }

    /** Adds a worker that joined the thread (a hot-added card's). Any thread. */
    synchronized void add(final Agent agent)
    {
        if (agent instanceof CardWorker<?> worker)
        {
            final CardWorker<?>[] next = Arrays.copyOf(workers, workers.length + 1);
            next[next.length - 1] = worker;
            workers = next;
        }
    }

    /** How many times the thread slept in a card (racy read from other threads). */
    public long cardWaits()
    {
        return cardWaits;
    }

    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            idle.idle(workCount);
            return;
        }
        final CardWorker<?> waiter = soleWaiter();
        if (waiter == null)
        {
            idle.idle(0);
            return;
        }
        cardWaits++;
        waiter.waitInCard();
        // The device was busy, not idle: the strategy starts over (a back-off's spin, a kick waiter's idle time).
        idle.reset();
    }

    public void idle()
    {
        idle(0);
    }

    public void reset()
    {
        idle.reset();
    }

    public String alias()
    {
        return "card-wait+" + idle.alias();
    }

    /** The one worker that may wait, or null: none may, two may, or one has work queued. */
    private CardWorker<?> soleWaiter()
    {
        CardWorker<?> waiter = null;
        for (final CardWorker<?> worker : workers)
        {
            if (worker.hasQueuedWork())
            {
                return null;
            }
            if (worker.canWaitInCard())
            {
                if (waiter != null)
                {
                    return null;
                }
                waiter = worker;
            }
        }
        return waiter;
    }
}
