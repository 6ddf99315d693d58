package dev.braid.aggregator;

import dev.braid.mapper.ring.ManyToOneSubmissionRing;
import dev.braid.virtio.card.Card;

/**
 * The aggregator's side of one card: its submission rings (one per card queue) and its fence
 * state, shared by every front queue and card worker.
 *
 * <p>Fencing protocol: the policy thread sets {@link #fenced}, calls {@link Card#fence()}, and only
 * when that returned bumps {@link #fenceGeneration} (volatile write, release). A front queue that
 * reads a generation newer than the one recorded at submit (volatile read, acquire) knows the
 * earlier attempt can no longer touch guest memory, and may replay it.
 */
public final class CardPort
{
    private final int index;
    private final Card card;
    private final ManyToOneSubmissionRing[] submissionRings;
    private volatile int fenceGeneration;
    private volatile boolean fenced;
    private volatile boolean removed;

    public CardPort(final int index, final Card card, final int ringCapacity)
    {
        this.index = index;
        this.card = card;
        this.submissionRings = new ManyToOneSubmissionRing[card.queueCount()];
        for (int q = 0; q < submissionRings.length; q++)
        {
            submissionRings[q] = new ManyToOneSubmissionRing(ringCapacity);
        }
    }

    public int index()
    {
        return index;
    }

    public Card card()
    {
        return card;
    }

    public ManyToOneSubmissionRing submissionRing(final int cardQueue)
    {
        return submissionRings[cardQueue];
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

    public boolean isRemoved()
    {
        return removed;
    }

    /** Fences the card; on return no earlier attempt can touch guest memory. Policy thread. */
    public void fence()
    {
        if (!fenced)
        {
            fenced = true;
            card.fence();
            fenceGeneration = fenceGeneration + 1;
        }
    }

    /** Re-admits a fenced card that came back. Policy thread. */
    public void unfence()
    {
        if (fenced && !removed)
        {
            card.unfence();
            fenced = false;
        }
    }

    /** Marks the card as removed from the pool: fenced for good. */
    public void remove()
    {
        fence();
        removed = true;
    }
}
