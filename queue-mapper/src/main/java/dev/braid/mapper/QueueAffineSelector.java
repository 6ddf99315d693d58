package dev.braid.mapper;

/**
 * Always the first route: every request of a guest queue goes to the same card queue, so the card
 * sees them in guest order. The default; {@link QueueMap} puts the preferred route first.
 */
public final class QueueAffineSelector implements RouteSelector
{
    public static final QueueAffineSelector INSTANCE = new QueueAffineSelector();

    private QueueAffineSelector()
    {
    }

    public int select(final QueueMap map, final int guestQueue, final int flowHash)
    {
        return 0;
    }
}
