package dev.braid.sim;

import dev.braid.virtio.card.CompletionSink;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The in-flight requests of one simulated card queue, with a state per slot that other threads can
 * race on safely: the owning queue thread moves a slot FREE → PENDING → EXECUTING → DONE → FREE,
 * while {@code fence()} or a task-management call from another thread may only CAS PENDING to
 * ABORTED (ABORT TASK), RESET (a LUN or I_T nexus reset), CANCELLED (the fence) or ZOMBIE. Whoever
 * wins the CAS out of PENDING decides whether the request may still touch guest memory, so a request
 * can never DMA after it was fenced or aborted. The end state keeps the reason, so the owner answers
 * each one as it must without a field beside the state word.
 *
 * <p>Each state word also carries a generation that the owner bumps on reuse, so a racing thread
 * that validated a slot's fields against one word cannot abort the slot's next occupant (no ABA).
 */
public final class InFlightSlots
{
    public static final int FREE = 0;
    public static final int PENDING = 1;
    public static final int EXECUTING = 2;
    public static final int DONE = 3;
    /** Ended by ABORT TASK before it ran. */
    public static final int ABORTED = 4;
    /** Cancelled by the card's fence before it ran. */
    public static final int CANCELLED = 5;
    public static final int ZOMBIE = 6;
    /** Ended by a LUN or I_T nexus reset before it ran. */
    public static final int RESET = 7;

    private static final int STATE_BITS = 4;
    private static final int STATE_MASK = (1 << STATE_BITS) - 1;

    private final AtomicIntegerArray words;
    private final long[] tokens;
    private final CompletionSink[] sinks;
    private final long[] readyAt;
    private final int[] status;
    private final int[] length;

    public InFlightSlots(final int depth)
    {
        words = new AtomicIntegerArray(depth);
        tokens = new long[depth];
        sinks = new CompletionSink[depth];
        readyAt = new long[depth];
        status = new int[depth];
        length = new int[depth];
    }

    public int depth()
    {
        return tokens.length;
    }

    /** The state part of a word from {@link #word(int)}. */
    public static int stateOf(final int word)
    {
        return word & STATE_MASK;
    }

    /** The raw state word (acquire): read it before the slot's fields, re-check it with a CAS. */
    public int word(final int slot)
    {
        return words.get(slot);
    }

    public int state(final int slot)
    {
        return words.get(slot) & STATE_MASK;
    }

    /** Owner only: fills a FREE slot and publishes it as PENDING (release: fields before state). */
    public void arm(final int slot, final long token, final CompletionSink sink, final long readyAtNanos)
    {
        tokens[slot] = token;
        sinks[slot] = sink;
        readyAt[slot] = readyAtNanos;
        final int generation = (words.get(slot) >>> STATE_BITS) + 1;
        words.set(slot, generation << STATE_BITS | PENDING);
    }

    /** Moves a slot out of {@code word}'s state into {@code state}; false when someone else moved it first. */
    public boolean transition(final int slot, final int word, final int state)
    {
        return words.compareAndSet(slot, word, (word & ~STATE_MASK) | state);
    }

    /** Owner only: claims a PENDING slot for execution; false when a fence or abort won. */
    public boolean beginExecute(final int slot)
    {
        final int word = words.get(slot);
        return stateOf(word) == PENDING && transition(slot, word, EXECUTING);
    }

    /** Owner only: records the outcome of an EXECUTING (or PENDING) slot. */
    public void finish(final int slot, final int completionStatus, final int completionLength)
    {
        status[slot] = completionStatus;
        length[slot] = completionLength;
        final int word = words.get(slot);
        // Release is enough: the data moved before, and only PENDING is contended (arm is a full store).
        words.lazySet(slot, (word & ~STATE_MASK) | DONE);
    }

    /**
     * Owner only: hands the completion to its sink and frees the slot. False when the sink is full;
     * the slot keeps its state and the caller retries on a later poll.
     */
    public boolean deliver(final int slot, final int completionStatus, final int completionLength)
    {
        if (!sinks[slot].complete(tokens[slot], completionStatus, completionLength))
        {
            return false;
        }
        sinks[slot] = null;
        final int word = words.get(slot);
        words.lazySet(slot, word & ~STATE_MASK);
        return true;
    }

    /** Owner only: frees a slot without a word to its sink (a card that rebooted lost it). */
    public void discard(final int slot)
    {
        sinks[slot] = null;
        final int word = words.get(slot);
        words.lazySet(slot, word & ~STATE_MASK);
    }

    /** Moves every PENDING slot to {@code state} (fence, reset). Returns how many moved. */
    public int cancelPending(final int state)
    {
        int moved = 0;
        for (int i = 0; i < tokens.length; i++)
        {
            final int word = words.get(i);
            if (stateOf(word) == PENDING && transition(i, word, state))
            {
                moved++;
            }
        }
        return moved;
    }

    /** Spins until no slot is EXECUTING: after it, no earlier claim can still be touching guest memory. */
    public void awaitNoExecuting()
    {
        for (int i = 0; i < tokens.length; i++)
        {
            while (state(i) == EXECUTING)
            {
                Thread.onSpinWait();
            }
        }
    }

    public long token(final int slot)
    {
        return tokens[slot];
    }

    public long readyAt(final int slot)
    {
        return readyAt[slot];
    }

    public int status(final int slot)
    {
        return status[slot];
    }

    public int length(final int slot)
    {
        return length[slot];
    }

    /** Number of slots not FREE. */
    public int inFlight()
    {
        int count = 0;
        for (int i = 0; i < tokens.length; i++)
        {
            if (state(i) != FREE)
            {
                count++;
            }
        }
        return count;
    }
}
