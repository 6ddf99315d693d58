package dev.braid.perf.aggregator;

import dev.braid.aggregator.CompletionToken;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ForwardingBlockCard;

import dev.braid.sim.CardFault;
import dev.braid.sim.SimDisk;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A block card that passes everything to the card it wraps and records, per head, in a table shared
 * by all cards of a device: the attempt number of the last submission the card was <em>offered</em>
 * (accepted or refused) and a bit for each card that was offered the head during the current use.
 * The guest reads and clears the entry when it reaps the head ({@code FailoverStall.ReplayWatch}).
 * Only tokens of one guest queue are recorded.
 *
 * <p>A replay is told by its attempt number, not by a second submission: the front queue gives each
 * use of a head a new attempt and every re-dispatch the next one ({@link CompletionToken}), so a
 * completion whose attempt is not the use's first came from a replay. Counting second submissions
 * (what this card did before) misses every replay whose first attempt never reached a card: a
 * fail-stopped card refuses submissions, the card worker keeps them in its backlog and cancels them
 * at the fence, and the replay is then the first submission any card accepts.
 *
 * <p>Entries are written by card worker threads and read by the guest thread, hence the atomic array.
 */
final class ReplayMarkingCard extends ForwardingBlockCard
{
    static final int ATTEMPT_MASK = CompletionToken.MAX_ATTEMPT;
    static final int CARD_SHIFT = 32;

    private final AtomicLongArray submissions;
    private final long cardBit;
    private final int guestQueue;
    private volatile CardFault armed;
    private SimDisk disk;
    private volatile long injectedAt = -1;

    ReplayMarkingCard(final BlockCard card, final int index, final int guestQueue, final AtomicLongArray submissions)
    {
        super(card);
        this.guestQueue = guestQueue;
        if (index < 0 || index >= 31)
        {
            throw new IllegalArgumentException("card index " + index);
        }
        this.submissions = submissions;
        this.cardBit = 1L << (CARD_SHIFT + index);
    }

    public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
    {
        // Recorded before the card sees the request, so a completion can never overtake its record.
        // Only the guest's queue: the control plane's probes carry their own queue and the card's
        // index as the head, and would otherwise pass for guest heads 0 and 1.
        if (CompletionToken.guestQueue(token) == guestQueue)
        {
            final long attempt = CompletionToken.attempt(token);
            submissions.getAndUpdate(CompletionToken.head(token), seen -> (seen & ~(long)ATTEMPT_MASK) | cardBit | attempt);
        }
        final boolean accepted = card.submit(queue, io, token, sink);
        if (accepted && armed != null && CompletionToken.guestQueue(token) == guestQueue)
        {
            fire();
        }
        return accepted;
    }

    /**
     * Makes the next guest submission (not a probe) this card accepts inject {@code fault} into {@code disk} (the card
     * this one wraps) right after it, on the card worker's thread: the fault then hits a card that
     * holds at least that request, however the threads were scheduled. {@link #injectedAt()} gives the
     * time, taken just before the injection.
     */
    void armFault(final SimDisk disk, final CardFault fault)
    {
        this.disk = disk;
        this.armed = fault;
    }

    /** When the armed fault was injected ({@code System.nanoTime()}), or -1. */
    long injectedAt()
    {
        return injectedAt;
    }

    private void fire()
    {
        final CardFault fault = armed;
        if (fault != null)
        {
            armed = null;
            final long at = System.nanoTime();
            disk.inject(fault, 0);
            injectedAt = at;
        }
    }

    /** The attempt of an entry (0 when no card was offered the head during this use). */
    static int attempt(final long entry)
    {
        return (int)entry & ATTEMPT_MASK;
    }

    /** Whether {@code card} was offered the head during this use. */
    static boolean offeredTo(final long entry, final int card)
    {
        return (entry >>> (CARD_SHIFT + card) & 1) != 0;
    }
}
