package dev.braid.aggregator;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * Base of the control-plane handlers that probe a card coming back. A probe is not a guest request:
 * it is never prepared from a chain, never pulls, and its completion writes nothing to the guest
 * (used length 0); the control plane reads only its card status. Slot = card index, which is also
 * its flow hash. Subclasses start the probe ({@link #submit}) and say which statuses fail the path.
 */
public abstract class ProbeHandler implements RequestHandler
{
    public int prepare(final int slot, final DescriptorChain chain)
    {
        throw new UnsupportedOperationException("probes are not guest requests");
    }

    public int flowHash(final int slot)
    {
        return slot;
    }

    public boolean isPull()
    {
        return false;
    }

    public int receive(final Card card, final int cardQueue, final int slot)
    {
        return 0;
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
