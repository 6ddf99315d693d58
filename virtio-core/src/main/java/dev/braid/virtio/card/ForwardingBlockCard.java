package dev.braid.virtio.card;

/**
 * A block card that hands every call to the card it wraps: the base for decorators that observe
 * or alter one call (tracing submissions, marking replays, injecting faults) and pass the rest on.
 */
public class ForwardingBlockCard extends ForwardingCard<BlockCard> implements BlockCard
{
    public ForwardingBlockCard(final BlockCard card)
    {
        super(card);
    }

    public long capacitySectors()
    {
        return card.capacitySectors();
    }

    public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
    {
        return card.submit(queue, io, token, sink);
    }

    public long maxTransferBytes()
    {
        return card.maxTransferBytes();
    }
}
