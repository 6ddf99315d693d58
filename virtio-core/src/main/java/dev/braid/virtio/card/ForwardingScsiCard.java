package dev.braid.virtio.card;

/** An HBA card that hands every call to the card it wraps; decorators override the calls they watch. */
public class ForwardingScsiCard extends ForwardingCard<ScsiCard> implements ScsiCard
{
    public ForwardingScsiCard(final ScsiCard card)
    {
        super(card);
    }

    public boolean submit(final int queue, final ScsiIo io, final long token, final CompletionSink sink)
    {
        return card.submit(queue, io, token, sink);
    }

    public boolean taskManagement(
        final int queue, final int function, final int target, final int lun, final long tag, final long token,
        final CompletionSink sink)
    {
        return card.taskManagement(queue, function, target, lun, tag, token, sink);
    }
}
