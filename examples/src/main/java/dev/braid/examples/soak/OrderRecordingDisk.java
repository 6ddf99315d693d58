package dev.braid.examples.soak;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ForwardingBlockCard;
import dev.braid.virtio.card.IoVector;

/**
 * A block card that passes everything to the card it wraps and reports each accepted write to a
 * {@link WriteOrder}. The write id is the second little-endian long of the data, where the blk
 * guest writes it in every sector.
 */
final class OrderRecordingDisk extends ForwardingBlockCard
{
    private static final int WRITE_ID_OFFSET = 8;

    private final WriteOrder order;

    OrderRecordingDisk(final BlockCard card, final WriteOrder order)
    {
        super(card);
        this.order = order;
    }

    public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
    {
        final boolean accepted = card.submit(queue, io, token, sink);
        // Recorded before this worker next polls the card, so before the write can complete and the
        // guest queue move to another card.
        if (accepted && io.operation() == BlockIo.WRITE)
        {
            final IoVector data = io.data();
            if (data.count() > 0 && data.length(0) >= WRITE_ID_OFFSET + 8)
            {
                order.submitted(token, data.memory().getLong(data.address(0) + WRITE_ID_OFFSET));
            }
        }
        return accepted;
    }

    public void fence()
    {
        order.fenced();
        card.fence();
    }

    /** The aggregator's fence (CardPort begins it, never the blocking fence): the same record. */
    public void beginFence()
    {
        order.fenced();
        card.beginFence();
    }
}
