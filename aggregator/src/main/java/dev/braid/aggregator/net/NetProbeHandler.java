package dev.braid.aggregator.net;

import dev.braid.aggregator.ProbeHandler;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;

/**
 * Probes a NIC that is coming back: the probe runs on the card's worker, so a worker that is stuck
 * never answers (the probe times out), and it succeeds only when the card reports its link up. It
 * touches no guest memory and sends nothing on the wire. Slot = card index.
 */
public final class NetProbeHandler extends ProbeHandler
{
    public boolean submit(final Card card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        // False when the completion ring is full: the worker keeps the probe and tries again.
        return sink.complete(token, card.isLinkUp() ? CardStatus.OK : CardStatus.IO_ERROR, 0);
    }

    public boolean isPathFailure(final int status)
    {
        return status != CardStatus.OK;
    }
}
