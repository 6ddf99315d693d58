package dev.braid.aggregator;

import dev.braid.virtio.card.Card;

/**
 * A queue the device answers itself: {@link #prepare} completes every request locally (it never
 * returns {@link #SUBMIT}), so nothing reaches a card and the card-side calls have nothing to do.
 */
public abstract class LocalRequestHandler<C extends Card> implements RequestHandler<C>
{
    public int flowHash(final int slot)
    {
        return 0;
    }

    public boolean isPathFailure(final int slot, final int status)
    {
        return false;
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
