package dev.braid.virtio.card;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A decorator keeps the optional capabilities of the card it wraps: a card that can wait still can. */
class ForwardingCardTest
{
    /** Can always wait; records the timeout of each waiting poll. */
    static final class WaitingCard implements BlockCard
    {
        long waitedNanos = -1;

        public String name()
        {
            return "waiting";
        }

        public int queueCount()
        {
            return 1;
        }

        public int queueDepth()
        {
            return 1;
        }

        public long capacitySectors()
        {
            return 8;
        }

        public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
        {
            return false;
        }

        public int poll(final int queue)
        {
            return 0;
        }

        public boolean canWait(final int queue)
        {
            return true;
        }

        public int pollOrWait(final int queue, final long timeoutNanos)
        {
            waitedNanos = timeoutNanos;
            return 3;
        }

        public void fence()
        {
        }

        public void unfence()
        {
        }

        public boolean isLinkUp()
        {
            return true;
        }

        public void setEventListener(final CardEventListener listener)
        {
        }
    }

    @Test
    void forwardsTheWait()
    {
        final WaitingCard inner = new WaitingCard();
        final ForwardingBlockCard outer = new ForwardingBlockCard(inner);
        assertTrue(outer.canWait(0));
        assertEquals(3, outer.pollOrWait(0, 5_000L));
        assertEquals(5_000L, inner.waitedNanos);
    }
}
