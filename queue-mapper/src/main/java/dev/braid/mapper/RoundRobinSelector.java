package dev.braid.mapper;

/**
 * Cycles over the routes of the guest queue. Over any window of {@code k * n} picks on a stable map
 * of {@code n} routes each route gets exactly {@code k}.
 */
public final class RoundRobinSelector implements RouteSelector
{
    private int next;

    public int select(final QueueMap map, final int guestQueue, final int flowHash)
    {
        final int count = map.routeCount(guestQueue);
        int index = next;
        if (index >= count)
        {
            // The map shrank since the last pick.
            index = 0;
        }
        next = index + 1 == count ? 0 : index + 1;
        return index;
    }
}
