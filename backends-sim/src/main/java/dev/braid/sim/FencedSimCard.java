package dev.braid.sim;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;

import org.agrona.concurrent.NanoClock;

/**
 * The fault and fence controls of a simulated card whose queues each own one {@link InFlightSlots}:
 * one {@link CardFaultState} and one {@link CardFence} over those slots. The controls and queries
 * are thread-safe, as {@link Card} asks.
 */
public abstract class FencedSimCard implements Card, FaultTarget
{
    protected final CardFaultState fault = new CardFaultState();
    protected final CardFence fence;
    protected final int queueDepth;
    private final String name;
    private final InFlightSlots[] slots;

    /** @param slots one per queue, from {@link #newSlots}; validate the counts before building them. */
    protected FencedSimCard(final String name, final NanoClock clock, final InFlightSlots[] slots, final int queueDepth)
    {
        this.name = name;
        this.slots = slots;
        this.queueDepth = queueDepth;
        this.fence = new CardFence(fault, clock, slots);
    }

    public String name()
    {
        return name;
    }

    public int queueCount()
    {
        return slots.length;
    }

    public int queueDepth()
    {
        return queueDepth;
    }

    protected static InFlightSlots[] newSlots(final int queueCount, final int queueDepth)
    {
        final InFlightSlots[] slots = new InFlightSlots[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            slots[i] = new InFlightSlots(queueDepth);
        }
        return slots;
    }

    /** The in-flight slots of {@code queue}. */
    protected final InFlightSlots slots(final int queue)
    {
        return slots[queue];
    }

    public void fence()
    {
        fence.fence();
    }

    public void unfence()
    {
        fence.unfence();
    }

    public boolean isFenced()
    {
        return fence.isFenced();
    }

    public boolean isLinkUp()
    {
        return fault.isLinkUp();
    }

    public void setEventListener(final CardEventListener listener)
    {
        fault.setEventListener(listener);
    }

    /** Puts the card into {@code fault}; see {@link CardFaultState#set} for {@code param}. */
    public void inject(final CardFault fault, final long param)
    {
        this.fault.inject(this, fault, param);
    }

    public void heal()
    {
        inject(CardFault.HEALTHY, 0);
    }

    public void rejoin()
    {
        heal();
    }

    public CardFault fault()
    {
        return fault.fault();
    }
}
