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

    public boolean canWait(final int queue)
    {
        return card.canWait(queue);
    }

    public int pollOrWait(final int queue, final long timeoutNanos)
    {
        return card.pollOrWait(queue, timeoutNanos);
    }

    /** Final, like {@link #beginFence()}: a decorator that watches fences overrides {@link #beforeFence()}, so neither way past it is missed. */
    public final void fence()
    {
        beforeFence();
        card.fence();
    }

    public final void beginFence()
    {
        beforeFence();
        card.beginFence();
    }

    /** Called before the wrapped card is fenced, by {@link #fence()} and {@link #beginFence()} alike. */
    protected void beforeFence()
    {
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
