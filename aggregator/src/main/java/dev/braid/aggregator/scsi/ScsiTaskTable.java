package dev.braid.aggregator.scsi;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.scsi.VirtioScsi;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The device's scsi tasks as the control queue sees them: one entry per (request queue, head),
 * holding the task's tag, LUN field and the card it was last handed to. It lets task management
 * on the control queue's thread find a task that a request queue's thread owns.
 *
 * <p>Each entry has a state word: a generation, an ENDED flag with its reason (ABORT TASK, or a LUN
 * or I_T nexus reset: {@link #endedResponse}) and a phase, FREE, ACTIVE (popped,
 * not yet completed) or COMPLETING (completed, its used element not yet published to the guest).
 * The owning front queue thread opens an entry (tag and LUN first, then the state with a release
 * store, so a reader that acquires ACTIVE sees the fields), moves it to COMPLETING when it writes the
 * response, and frees it, bumping the generation, only once the used element is published. A TMF
 * that waits until the generation of every task it affects has moved therefore never completes
 * before those tasks' completions are visible to the guest, as virtio-scsi requires.
 *
 * <p>The control thread sets the ENDED flag with a CAS on an ACTIVE state word; the owner's
 * ACTIVE to COMPLETING transition is a CAS loop for that reason. The card worker that hands the task
 * to a card stores the holder (volatile) and then reads the flag (volatile); the control thread sets
 * the flag and then reads the holder. One of the two always sees the other's write: either the
 * worker does not start an ended task, or the control thread knows which card to ask.
 *
 * <p>The reason picks the response the device answers for a task a TMF ended (virtio-scsi, "Device
 * Operation: Request Queues"): ABORTED "if the request was cancelled due to an ABORT TASK or ABORT
 * TASK SET task management function", RESET "if the request was cancelled due to a bus or device reset
 * (including a task management function)". The difference reaches the guest's application: Linux's
 * virtio_scsi maps ABORTED to DID_ABORT, an I/O error, and RESET to DID_RESET, which the SCSI
 * midlayer retries. A task both kinds ended answers RESET.
 */
public final class ScsiTaskTable
{
    public static final int FREE = 0;
    public static final int ACTIVE = 1;
    public static final int COMPLETING = 2;

    private static final int PHASE_MASK = 3;
    private static final int ENDED_FLAG = 4;
    /** With ENDED: a reset ended it (answer RESET); without, ABORT TASK did (answer ABORTED). */
    private static final int BY_RESET_FLAG = 8;
    private static final int END_MASK = ENDED_FLAG | BY_RESET_FLAG;
    private static final int GENERATION_SHIFT = 4;

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
        states.lazySet(index, (state & ~(PHASE_MASK | END_MASK)) | ACTIVE);
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

    /** Records the card about to start the task; returns false if a TMF ended the task meanwhile. */
    public boolean handTo(final int index, final Card card)
    {
        holders.set(index, card);
        return (states.get(index) & ENDED_FLAG) == 0;
    }

    // ---------------------------------------------------------------- any thread

    /** Whether a TMF ended the task (ABORT TASK or a reset); {@link #endedResponse} says which. */
    public boolean isEnded(final int index)
    {
        return (states.get(index) & ENDED_FLAG) != 0;
    }

    /**
     * The virtio-scsi response for a task a TMF ended: {@link VirtioScsi#VIRTIO_SCSI_S_RESET} when a
     * reset did, else {@link VirtioScsi#VIRTIO_SCSI_S_ABORTED}. Only meaningful when {@link #isEnded}.
     */
    public int endedResponse(final int index)
    {
        return (states.get(index) & BY_RESET_FLAG) != 0
            ? VirtioScsi.VIRTIO_SCSI_S_RESET : VirtioScsi.VIRTIO_SCSI_S_ABORTED;
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

    /** ABORT TASK ended an ACTIVE entry still in {@code expectedState}; false if it moved on. Control thread. */
    public boolean markAborted(final int index, final int expectedState)
    {
        return markEnded(index, expectedState, ENDED_FLAG);
    }

    /** A LUN or I_T nexus reset ended an ACTIVE entry in {@code expectedState}; false if it moved on. Control thread. */
    public boolean markReset(final int index, final int expectedState)
    {
        return markEnded(index, expectedState, ENDED_FLAG | BY_RESET_FLAG);
    }

    private boolean markEnded(final int index, final int expectedState, final int flags)
    {
        return phase(expectedState) == ACTIVE &&
            ((expectedState & flags) == flags || states.compareAndSet(index, expectedState, expectedState | flags));
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
        return (a & ~END_MASK) == (b & ~END_MASK);
    }
}
