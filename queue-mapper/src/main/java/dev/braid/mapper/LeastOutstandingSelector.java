package dev.braid.mapper;

/**
 * Picks the route with the fewest requests outstanding from this front queue; among equals it picks
 * uniformly at random (seeded), so that equal routes do not all start on the first one.
 */
public final class LeastOutstandingSelector implements RouteSelector
{
    private final RouteSlots slots;
    private final OutstandingCounts outstanding;
    private final SplitMix64 random;

    public LeastOutstandingSelector(final int maxCards, final int maxQueuesPerCard, final long seed)
    {
        slots = new RouteSlots(maxCards, maxQueuesPerCard);
        outstanding = new OutstandingCounts(slots);
        random = new SplitMix64(seed);
    }

    public int select(final QueueMap map, final int guestQueue, final int flowHash)
    {
        final int count = map.routeCount(guestQueue);
        int best = 0;
        long bestOutstanding = Long.MAX_VALUE;
        int ties = 0;
        for (int i = 0; i < count; i++)
        {
            final long value = outstanding.of(map.route(guestQueue, i));
            if (value < bestOutstanding)
            {
                bestOutstanding = value;
                best = i;
                ties = 1;
            }
            else if (value == bestOutstanding && random.nextInt(++ties) == 0)
            {
                // Reservoir sampling: each of the tied routes ends up chosen with probability 1/ties.
                best = i;
            }
        }
        return best;
    }

    public void onSubmit(final int route)
    {
        outstanding.onSubmit(route);
    }

    public void onComplete(final int route, final long serviceNanos)
    {
        outstanding.onComplete(route);
    }

    /** Requests outstanding on {@code route} as this selector counts them. */
    public long outstanding(final int route)
    {
        return outstanding.of(route);
    }
}
