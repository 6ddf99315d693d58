package dev.braid.mapper;

/**
 * The one place a new {@link QueueMap} becomes visible: a single volatile reference.
 *
 * <p>The policy thread publishes with a volatile write (release); each front queue reads it once
 * per batch with a volatile read (acquire), so it sees the whole immutable map of that epoch or
 * the previous one, never a mix. Epochs only grow.
 */
public final class QueueMapPublisher
{
    private volatile QueueMap current;

    public QueueMapPublisher(final QueueMap initial)
    {
        current = initial;
    }

    public QueueMap current()
    {
        return current;
    }

    /** Publishes {@code next}; its epoch must be greater than the current one. Single writer. */
    public void publish(final QueueMap next)
    {
        final QueueMap previous = current;
        if (next.epoch() <= previous.epoch())
        {
            throw new IllegalArgumentException(
                "epoch must grow: current " + previous.epoch() + ", offered " + next.epoch());
        }
        current = next;
    }
}
