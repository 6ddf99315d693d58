package dev.braid.aggregator.scsi;

import dev.braid.virtio.card.Card;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The device's scsi tasks as the control queue sees them: one entry per (request queue, head),
 * holding the task's tag, LUN field and the card it was last handed to. It lets task management
 * on the control queue's thread find a task that a request queue's thread owns.
 *
 * <p>Each entry has a state word: a generation, an ABORTED flag and a phase, FREE, ACTIVE (popped,
 * not yet completed) or COMPLETING (completed, its used element not yet published to the guest).
 * The owning front queue thread opens an entry (tag and LUN first, then the state with a release
 * store, so a reader that acquires ACTIVE sees the fields), moves it to COMPLETING when it writes the
 * response, and frees it, bumping the generation, only once the used element is published. A TMF
 * that waits until the generation of every task it affects has moved therefore never completes
 * before those tasks' completions are visible to the guest, as virtio-scsi requires.
 *
 * <p>The control thread sets the ABORTED flag with a CAS on an ACTIVE state word; the owner's
 * ACTIVE to COMPLETING transition is a CAS loop for that reason. The card worker that hands the task
 * to a card stores the holder (volatile) and then reads the flag (volatile); the control thread sets
 * the flag and then reads the holder. One of the two always sees the other's write: either the
 * worker does not start an aborted task, or the control thread knows which card to ask.
 */
public final class ScsiTaskTable
{
    public static final int FREE = 0;
    public static final int ACTIVE = 1;
    public static final int COMPLETING = 2;

    private static final int PHASE_MASK = 3;
    private static final int ABORTED_FLAG = 4;
    private static final int GENERATION_SHIFT = 3;

    private final int queueSize;
    private final AtomicIntegerArray states;
    private final AtomicLongArray tags;
    private final AtomicLongArray lunFields;
    private final AtomicReferenceArray<Card> holders;

    public ScsiTaskTable(final int requestQueues, final int queueSize)
    {
        this.queueSize = queueSize;
        final int entries = requestQueues * queueSize;
        states = new AtomicIntegerArray(entries);
        tags = new AtomicLongArray(entries);
        lunFields = new AtomicLongArray(entries);
        holders = new AtomicReferenceArray<>(entries);
    }

    public int entries()
    {
        return states.length();
    }

    public int index(final int requestQueue, final int slot)
    {
        return requestQueue * queueSize + slot;
    }

    // ---------------------------------------------------------------- owner (front queue thread)

    /** A task was popped. */
    public void open(final int index, final long tag, final long lunField)
    {
        final int state = states.get(index);
        tags.lazySet(index, tag);
        lunFields.lazySet(index, lunField);
        holders.lazySet(index, null);
        // Release: the fields above are visible to whoever acquires ACTIVE.
        states.lazySet(index, (state & ~(PHASE_MASK | ABORTED_FLAG)) | ACTIVE);
    }

    /** The task's response is written; its used element will be published at the end of the cycle. */
    public void completing(final int index)
    {
        while (true)
        {
            final int state = states.get(index);
            if (phase(state) != ACTIVE || states.compareAndSet(index, state, (state & ~PHASE_MASK) | COMPLETING))
            {
                return;
            }
        }
    }

    /** The task's used element is published: the entry is free, under a new generation. */
    public void release(final int index)
    {
        final int state = states.get(index);
        if (phase(state) == COMPLETING)
        {
            holders.lazySet(index, null);
            states.set(index, ((generation(state) + 1) << GENERATION_SHIFT) | FREE);
        }
    }

    // ---------------------------------------------------------------- card worker thread

    /** Records the card about to start the task; returns false if the task was aborted meanwhile. */
    public boolean handTo(final int index, final Card card)
    {
        holders.set(index, card);
        return (states.get(index) & ABORTED_FLAG) == 0;
    }

    // ---------------------------------------------------------------- any thread

    public boolean isAborted(final int index)
    {
        return (states.get(index) & ABORTED_FLAG) != 0;
    }

    public int state(final int index)
    {
        return states.get(index);
    }

    public long tag(final int index)
    {
        return tags.get(index);
    }

    public long lunField(final int index)
    {
        return lunFields.get(index);
    }

    public Card holder(final int index)
    {
        return holders.get(index);
    }

    /** Sets ABORTED on an ACTIVE entry still in {@code expectedState}; false if it moved on. Control thread. */
    public boolean markAborted(final int index, final int expectedState)
    {
        return phase(expectedState) == ACTIVE &&
            ((expectedState & ABORTED_FLAG) != 0 || states.compareAndSet(index, expectedState, expectedState | ABORTED_FLAG));
    }

    public static int phase(final int state)
    {
        return state & PHASE_MASK;
    }

    public static int generation(final int state)
    {
        return state >>> GENERATION_SHIFT;
    }

    /** Whether two state words belong to one life of the entry (same generation and phase). */
    public static boolean sameLife(final int a, final int b)
    {
        return (a & ~ABORTED_FLAG) == (b & ~ABORTED_FLAG);
    }
}
