package dev.braid.aggregator;

/**
 * Who asks a guest queue to drain before it moves to another card (the HA controller). A ticket
 * names the guest queue in its low 16 bits.
 */
public interface DrainCoordinator
{
    long NO_DRAIN = -1;

    DrainCoordinator NONE = new DrainCoordinator()
    {
        public long pendingDrain()
        {
            return NO_DRAIN;
        }

        public boolean drained(final long ticket)
        {
            return true;
        }
    };

    /** The ticket of the guest queue that must drain now, or {@link #NO_DRAIN}. Any thread. */
    long pendingDrain();

    /** The queue of {@code ticket} has nothing left on any card; false when the ack must be retried. */
    boolean drained(long ticket);

    static int guestQueueOf(final long ticket)
    {
        return (int)(ticket & 0xFFFF);
    }
}
