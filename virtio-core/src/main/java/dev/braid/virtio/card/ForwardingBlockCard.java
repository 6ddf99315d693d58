package dev.braid.virtio.card;

/**
 * A block card that hands every call to the card it wraps: the base for decorators that observe
 * or alter one call (tracing submissions, marking replays, injecting faults) and pass the rest on.
 */
public class ForwardingBlockCard implements BlockCard
{
    protected final BlockCard card;

    public ForwardingBlockCard(final BlockCard card)
    {
        this.card = card;
    }

    public long capacitySectors()
    {
        return card.capacitySectors();
    }

    public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
    {
        return card.submit(queue, io, token, sink);
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
