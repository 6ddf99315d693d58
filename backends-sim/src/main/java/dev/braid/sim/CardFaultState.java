package dev.braid.sim;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The fault a simulated card is in, and what it means for service: whether the card accepts and
 * completes work, its latency multiplier and its error budget. Written by a test or schedule thread,
 * read by the card's queue threads (volatile). {@link #inject} also reports link changes to the
 * card's event listener.
 */
public final class CardFaultState implements CardFence.ZombieState
{
    private volatile CardFault fault = CardFault.HEALTHY;
    private volatile long param;
    private final AtomicLong errorBudget = new AtomicLong();
    private volatile CardEventListener listener;

    /**
     * Enters {@code fault}. {@code param}: SLOW = latency factor (at least 1); ERROR_BURST = number of
     * requests to fail (0 = until healed); ZOMBIE = extra nanos before its late completions; others ignore it.
     *
     * @return the previous fault.
     */
    public CardFault set(final CardFault fault, final long param)
    {
        final CardFault previous = this.fault;
        this.param = param;
        errorBudget.set(param);
        this.fault = fault;
        return previous;
    }

    public void setEventListener(final CardEventListener listener)
    {
        this.listener = listener;
    }

    /**
     * Enters {@code fault} as {@link #set} does, and tells the event listener, if any, when that takes
     * {@code card}'s link up or down.
     */
    public void inject(final Card card, final CardFault fault, final long param)
    {
        final CardFault previous = set(fault, param);
        final boolean up = fault.linkUp();
        final CardEventListener l = listener;
        if (l != null && up != previous.linkUp())
        {
            l.onLinkChange(card, up);
        }
    }

    public CardFault fault()
    {
        return fault;
    }

    public long param()
    {
        return param;
    }

    public boolean isZombie()
    {
        return fault == CardFault.ZOMBIE;
    }

    public long zombieDelayNanos()
    {
        return param;
    }

    /** Whether the card reports its link up (FAIL_STOP and LINK_DOWN do not). */
    public boolean isLinkUp()
    {
        return fault.linkUp();
    }

    /** Whether new work is accepted at all (a FAIL_STOP card rejects it). */
    public boolean accepts()
    {
        return fault != CardFault.FAIL_STOP;
    }

    /** Whether the card makes progress on accepted work (HANG and FAIL_STOP do not). */
    public boolean progresses()
    {
        return fault.progresses();
    }

    /** Service latency under the current fault. */
    public long latency(final long baseNanos)
    {
        return fault == CardFault.SLOW ? baseNanos * Math.max(1, param) : baseNanos;
    }

    /** Whether the next request should fail with a path error (LINK_DOWN, or ERROR_BURST with budget left). */
    public boolean takeError()
    {
        final CardFault f = fault;
        if (f == CardFault.LINK_DOWN)
        {
            return true;
        }
        if (f != CardFault.ERROR_BURST)
        {
            return false;
        }
        if (param <= 0)
        {
            return true;
        }
        return errorBudget.getAndDecrement() > 0;
    }
}
