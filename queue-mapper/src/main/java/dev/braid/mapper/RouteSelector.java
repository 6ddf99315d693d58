package dev.braid.mapper;

/**
 * Picks one route among those a {@link QueueMap} gives a guest queue. One instance per front
 * queue, used by that queue's thread only, so implementations keep plain (unsynchronised) state.
 */
public interface RouteSelector
{
    /**
     * @param map        the snapshot of this batch.
     * @param guestQueue the guest queue the request came from.
     * @param flowHash   a hash of the request's flow (net 5-tuple) or of its position (blk sector);
     *                   selectors that do not need it ignore it.
     * @return an index in {@code [0, map.routeCount(guestQueue))}; the caller checks the count is non-zero.
     */
    int select(QueueMap map, int guestQueue, int flowHash);

    /** Tells the selector a request started on {@code route}. */
    default void onSubmit(final int route)
    {
    }

    /** Tells the selector a request finished on {@code route} after {@code serviceNanos}. */
    default void onComplete(final int route, final long serviceNanos)
    {
    }
}
