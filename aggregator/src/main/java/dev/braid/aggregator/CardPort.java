package dev.braid.aggregator;

import dev.braid.mapper.ring.ManyToOneSubmissionRing;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CompletionSink;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The aggregator's side of one card: its submission rings (one per card queue) and its fence
 * state, shared by every front queue and card worker.
 *
 * <p>Fencing protocol: the policy thread sets {@link #fenced}, closes the generation's
 * {@link CompletionGate} (from then on nothing the card reports for that generation is trusted),
 * calls {@link Card#beginFence()}, and once {@link Card#isFenceComplete()} (then, or at a later
 * {@link #completeFence()}) opens the next generation's gate and only then bumps
 * {@link #fenceGeneration} (volatile write, release). A front queue that reads a generation newer
 * than the one recorded at submit (volatile read, acquire) knows the earlier attempt can no longer
 * touch guest memory nor be reported, and may replay it.
 *
 * <p>A card worker starts a token only if the card is not fenced and the token's generation is the
 * current one, so an attempt dispatched before a fence never starts after the unfence. Each worker
 * acknowledges the generation it read at the start of its duty cycle once the cycle's submits are
 * done; unfence waits until every worker has acknowledged the current generation, so a check made
 * before the fence cannot lead to a submit after the unfence (a fenced card refuses submits).
 */
public final class CardPort<C extends Card>
{
    /** Control requests (probes, task management) on their way to card queue 0. */
    public static final int CONTROL_RING_CAPACITY = 256;

    private final int index;
    private final C card;
    private final ManyToOneSubmissionRing[] submissionRings;
    private final ManyToOneSubmissionRing controlRing = new ManyToOneSubmissionRing(CONTROL_RING_CAPACITY);
    private volatile int fenceGeneration;
    private volatile boolean fenced;
    private volatile boolean removed;
    private boolean fencePending;           // policy thread only
    private final AtomicIntegerArray workerGeneration;
    private final CompletionSink deviceSink;
    private final AtomicLong gateDropped = new AtomicLong();
    private volatile CompletionGate gate;

    /**
     * @param deviceSink where trusted completions go (the device's routing sink); the card never
     *                   sees it, only this port's current {@link CompletionGate}.
     */
    public CardPort(final int index, final C card, final int ringCapacity, final CompletionSink deviceSink)
    {
        this.index = index;
        this.card = card;
        this.deviceSink = deviceSink;
        this.gate = new CompletionGate(deviceSink, 0, gateDropped);
        this.submissionRings = new ManyToOneSubmissionRing[card.queueCount()];
        for (int q = 0; q < submissionRings.length; q++)
        {
            submissionRings[q] = new ManyToOneSubmissionRing(ringCapacity);
        }
        workerGeneration = new AtomicIntegerArray(submissionRings.length);
    }

    public int index()
    {
        return index;
    }

    public C card()
    {
        return card;
    }

    public ManyToOneSubmissionRing submissionRing(final int cardQueue)
    {
        return submissionRings[cardQueue];
    }

    /** The control channel's ring: probes and task management, served by the worker of card queue 0. */
    public ManyToOneSubmissionRing controlRing()
    {
        return controlRing;
    }

    public int queueCount()
    {
        return submissionRings.length;
    }

    public int fenceGeneration()
    {
        return fenceGeneration;
    }

    public boolean isFenced()
    {
        return fenced;
    }

    /** Whether a card worker may start {@code token} now. Fenced flag first: see the class comment. */
    public boolean admits(final long token)
    {
        return !fenced && CompletionToken.isGeneration(token, fenceGeneration);
    }

    /** The sink the card reports into for the current generation. Card workers pass it at submit. */
    CompletionSink gate()
    {
        return gate;
    }

    /** Completions the card reported through a closed gate (or with a foreign token): dropped. Any thread. */
    public long gateDropped()
    {
        return gateDropped.get();
    }

    /** The worker of {@code cardQueue} finished a duty cycle that began at {@code generation}. */
    void ackFenceGeneration(final int cardQueue, final int generation)
    {
        // Release: the cycle's submits happen before a control thread that reads this unfences.
        workerGeneration.lazySet(cardQueue, generation);
    }

    public boolean isRemoved()
    {
        return removed;
    }

    /**
     * Fences the card without blocking on it: steps 1-3 now (fenced, the gate closed for good, the
     * card's {@code beginFence}), steps 4-5 (a new gate, the generation that lets front queues replay)
     * once the card says its fence is complete, here or in a later {@link #completeFence()}. Until then
     * nothing of the card is replayed. Policy thread.
     */
    public void fence()
    {
        if (!fenced)
        {
            fenced = true;
            gate.close();
            fencePending = true;
            card.beginFence();
        }
        completeFence();
    }

    /** Finishes a pending fence whose card has completed it; returns whether none is pending. Policy thread. */
    public boolean completeFence()
    {
        if (fencePending && card.isFenceComplete())
        {
            final int next = fenceGeneration + 1;
            gate = new CompletionGate(deviceSink, next, gateDropped);
            fencePending = false;
            // Release: the new gate, then the generation front queues read before they replay.
            fenceGeneration = next;
        }
        return !fencePending;
    }

    /** Whether a fence was begun and its card has not completed it yet. Policy thread. */
    public boolean isFencePending()
    {
        return fencePending;
    }

    /**
     * Re-admits a fenced card that came back, once every worker has caught up with the fence.
     * Policy thread; returns whether the card is now unfenced (false: call again later).
     */
    public boolean unfence()
    {
        if (!fenced)
        {
            return true;
        }
        if (removed || !completeFence())
        {
            return false;
        }
        if (!workersCaughtUp(fenceGeneration))
        {
            return false;
        }
        card.unfence();
        fenced = false;
        return true;
    }

    /**
     * Whether every worker of the card finished a duty cycle begun at {@code generation} or later:
     * no check it made before that fence can still lead to a submit or a receive. Any thread.
     */
    public boolean workersCaughtUp(final int generation)
    {
        for (int q = 0; q < workerGeneration.length(); q++)
        {
            if (workerGeneration.get(q) != generation)
            {
                return false;
            }
        }
        return true;
    }

    /** Marks the card as removed from the pool: fenced for good. */
    public void remove()
    {
        fence();
        removed = true;
    }
}
