package dev.braid.mapper;

/**
 * Sends every request of one flow to the same route, by rendezvous (highest random weight) hashing
 * of the flow hash against each route. The pick depends only on the hash and the set of routes, not
 * on their order or on history; when a route leaves, only the flows it carried move, and when one
 * joins, only about {@code 1/n} of the flows move to it.
 */
public final class FlowHashSelector implements RouteSelector
{
    public static final FlowHashSelector INSTANCE = new FlowHashSelector();

    private FlowHashSelector()
    {
    }

    public int select(final QueueMap map, final int guestQueue, final int flowHash)
    {
        final int count = map.routeCount(guestQueue);
        int best = 0;
        long bestWeight = Long.MIN_VALUE;
        for (int i = 0; i < count; i++)
        {
            final long weight = weight(flowHash, map.route(guestQueue, i));
            // Equal 64-bit weights for distinct routes are practically impossible; the larger route
            // still wins so the choice never depends on order.
            if (weight > bestWeight || (weight == bestWeight && map.route(guestQueue, i) > map.route(guestQueue, best)))
            {
                bestWeight = weight;
                best = i;
            }
        }
        return best;
    }

    static long weight(final int flowHash, final int route)
    {
        return SplitMix64.mix64(((long)route << 32) ^ (flowHash & 0xFFFF_FFFFL) ^ 0x5BD1E9955BD1E995L);
    }
}
