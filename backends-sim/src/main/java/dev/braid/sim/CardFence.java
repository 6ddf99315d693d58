package dev.braid.sim;

import org.agrona.concurrent.NanoClock;

/**
 * The fence of a simulated card over its queues' in-flight slots. A fence cancels every request
 * that has not started, waits out those executing (so none touches guest memory after it returns),
 * and refuses new work until unfenced. A ZOMBIE card instead keeps its cancelled requests to
 * deliver them late, after {@link CardFaultState#param()} more nanos, as stale successes.
 *
 * <p>{@link #fence} runs on a control thread while queue threads submit: the flag and the slot
 * states form a Dekker pair (see {@link #cancelIfFenced}), both sides volatile or CAS.
 */
public final class CardFence
{
    /** Whether the card is a zombie now, and how long it holds its stale answers. Any thread. */
    public interface ZombieState
    {
        boolean isZombie();

        long zombieDelayNanos();
    }

    private final ZombieState fault;
    private final NanoClock clock;
    private final InFlightSlots[] slots;
    private volatile boolean fenced;
    private volatile int fences;
    private volatile long zombieReleaseAt;

    /**
     * @param slots the in-flight slots of every queue of the card.
     */
    public CardFence(final ZombieState fault, final NanoClock clock, final InFlightSlots[] slots)
    {
        this.fault = fault;
        this.clock = clock;
        this.slots = slots.clone();
    }

    /** Fences begun so far: a queue thread that sees it move re-sorts the slots the fence moved. */
    public int fenceCount()
    {
        return fences;
    }

    public boolean isFenced()
    {
        return fenced;
    }

    public void fence()
    {
        fenced = true;
        fences = fences + 1;
        final boolean zombie = fault.isZombie();
        if (zombie)
        {
            zombieReleaseAt = clock.nanoTime() + Math.max(0, fault.zombieDelayNanos());
        }
        for (final InFlightSlots s : slots)
        {
            s.cancelPending(zombie ? InFlightSlots.ZOMBIE : InFlightSlots.CANCELLED);
        }
        for (final InFlightSlots s : slots)
        {
            s.awaitNoExecuting();
        }
    }

    public void unfence()
    {
        fenced = false;
    }

    /**
     * Called by a queue thread right after it armed {@code slot}: if a fence raced with the submit,
     * cancels the slot as the fence would have.
     */
    public void cancelIfFenced(final InFlightSlots queueSlots, final int slot)
    {
        // Dekker with fence(): we publish the slot then read the flag, it writes the flag then reads slots.
        if (fenced)
        {
            final int word = queueSlots.word(slot);
            if (InFlightSlots.stateOf(word) == InFlightSlots.PENDING)
            {
                queueSlots.transition(slot, word, fault.isZombie() ? InFlightSlots.ZOMBIE : InFlightSlots.CANCELLED);
            }
        }
    }

    /** Whether a ZOMBIE card's late completions may be delivered at {@code now}. */
    public boolean isZombieReleased(final long now)
    {
        return now - zombieReleaseAt >= 0;
    }
}
