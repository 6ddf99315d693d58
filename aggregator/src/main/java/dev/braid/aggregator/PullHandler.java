package dev.braid.aggregator;

import dev.braid.virtio.card.Card;

/**
 * A handler whose requests are buffers the card fills when it has data (net rx): the card worker
 * holds them, in order, and asks for data on each duty cycle. A pulled buffer carries no order and
 * has nothing to fail: without a card it waits, as a NIC without link holds its rx ring.
 */
public interface PullHandler<C extends Card> extends RequestHandler<C>
{
    /**
     * Fills the slot's buffer from the card. Card worker thread; touches only this slot.
     *
     * @return the used length, 0 when nothing is waiting, -1 when a frame was dropped.
     */
    int receive(C card, int cardQueue, int slot);

    default PullHandler<C> asPull()
    {
        return this;
    }
}
