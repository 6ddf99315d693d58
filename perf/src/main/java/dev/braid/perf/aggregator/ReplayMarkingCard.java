package dev.braid.perf.aggregator;

import dev.braid.aggregator.CompletionToken;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ForwardingBlockCard;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A block card that passes everything to the card it wraps and marks, in a table shared by all
 * cards of a device, every head it accepts a second time within one use: a replayed request. The guest
 * then knows which of its completions came from a replay. Marks are set by card worker threads and
 * read and cleared by the guest thread, hence the atomic array.
 */
final class ReplayMarkingCard extends ForwardingBlockCard
{
    private final AtomicIntegerArray replayed;

    ReplayMarkingCard(final BlockCard card, final AtomicIntegerArray replayed)
    {
        super(card);
        this.replayed = replayed;
    }

    public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
    {
        final boolean accepted = card.submit(queue, io, token, sink);
        if (accepted)
        {
            // Attempt numbers keep counting across reuses of a head, so a replay is told by a second
            // submission within one use: 0 = not yet submitted, 1 = submitted, 2 = replayed. The
            // guest resets the entry when it reaps the head, before it can post it again.
            replayed.accumulateAndGet(CompletionToken.head(token), 1, (seen, one) -> seen == 0 ? 1 : 2);
        }
        return accepted;
    }
}
