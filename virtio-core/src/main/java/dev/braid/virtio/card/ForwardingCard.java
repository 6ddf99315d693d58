package dev.braid.virtio.card;

/**
 * The {@link Card} half of a forwarding decorator: every lifecycle call goes to the wrapped card.
 * {@link ForwardingBlockCard}, {@link ForwardingNetCard} and {@link ForwardingScsiCard} add the I/O calls.
 */
public abstract class ForwardingCard<C extends Card> implements Card
{
    protected final C card;

    protected ForwardingCard(final C card)
    {
        this.card = card;
    }

    public String name()
    {
        return card.name();
    }

    public int queueCount()
    {
        return card.queueCount();
    }

    public int queueDepth()
    {
        return card.queueDepth();
    }

    public int poll(final int queue)
    {
        return card.poll(queue);
    }

    public void fence()
    {
        card.fence();
    }

    /** The aggregator fences through this, not {@link #fence()}: a decorator that acts on a fence overrides both. */
    public void beginFence()
    {
        card.beginFence();
    }

    public boolean isFenceComplete()
    {
        return card.isFenceComplete();
    }

    public void unfence()
    {
        card.unfence();
    }

    public boolean isLinkUp()
    {
        return card.isLinkUp();
    }

    public void setEventListener(final CardEventListener listener)
    {
        card.setEventListener(listener);
    }
}
