package dev.braid.aggregator.net;

import dev.braid.aggregator.RequestHandler;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * Probes a NIC that is coming back: the probe runs on the card's worker, so a worker that is stuck
 * never answers (the probe times out), and it succeeds only when the card reports its link up. It
 * touches no guest memory and sends nothing on the wire. Slot = card index.
 */
public final class NetProbeHandler implements RequestHandler
{
    public int prepare(final int slot, final DescriptorChain chain)
    {
        throw new UnsupportedOperationException("probes are not guest requests");
    }

    public int flowHash(final int slot)
    {
        return slot;
    }

    public boolean submit(final Card card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        // False when the completion ring is full: the worker keeps the probe and tries again.
        return sink.complete(token, card.isLinkUp() ? CardStatus.OK : CardStatus.IO_ERROR, 0);
    }

    public boolean isPull()
    {
        return false;
    }

    public int receive(final Card card, final int cardQueue, final int slot)
    {
        return 0;
    }

    public boolean isPathFailure(final int status)
    {
        return status != CardStatus.OK;
    }

    public int complete(final int slot, final int status, final int length)
    {
        return 0;
    }

    public int fail(final int slot)
    {
        return 0;
    }
}
