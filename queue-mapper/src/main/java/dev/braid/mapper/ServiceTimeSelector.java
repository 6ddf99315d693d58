package dev.braid.mapper;

/**
 * Picks the route with the smallest expected wait: {@code ewma(service time) * (outstanding + 1)},
 * where both are counted by this front queue. A route without a sample yet is assumed as fast as
 * the fastest known route among the candidates, so a new or recovered card gets traffic at once.
 * Among equal costs the earlier route in map order wins.
 */
public final class ServiceTimeSelector implements RouteSelector
{
    /** Default EWMA weight of a new sample: 1/2^3. */
    public static final int DEFAULT_WEIGHT_SHIFT = 3;

    // Bounds that keep ewma * (outstanding + 1) below 2^61: no overflow whatever the card reports.
    private static final long MAX_SAMPLE_NANOS = 1L << 40;
    private static final long MAX_OUTSTANDING_FACTOR = 1L << 20;

    private final RouteSlots slots;
    private final long[] ewmaNanos;
    private final OutstandingCounts outstanding;
    private final int weightShift;

    public ServiceTimeSelector(final int maxCards, final int maxQueuesPerCard)
    {
        this(maxCards, maxQueuesPerCard, DEFAULT_WEIGHT_SHIFT);
    }

    public ServiceTimeSelector(final int maxCards, final int maxQueuesPerCard, final int weightShift)
    {
        if (weightShift < 0 || weightShift > 16)
        {
            throw new IllegalArgumentException("weight shift must be in [0, 16]: " + weightShift);
        }
        slots = new RouteSlots(maxCards, maxQueuesPerCard);
        ewmaNanos = new long[slots.slotCount()];
        outstanding = new OutstandingCounts(slots);
        this.weightShift = weightShift;
    }

    public int select(final QueueMap map, final int guestQueue, final int flowHash)
    {
        final int count = map.routeCount(guestQueue);
        long fastestKnown = Long.MAX_VALUE;
        for (int i = 0; i < count; i++)
        {
            final long ewma = ewmaNanos[slots.slot(map.route(guestQueue, i))];
            if (ewma != 0 && ewma < fastestKnown)
            {
                fastestKnown = ewma;
            }
        }
        final long unknown = fastestKnown == Long.MAX_VALUE ? 1 : fastestKnown;

        int best = 0;
        long bestCost = Long.MAX_VALUE;
        for (int i = 0; i < count; i++)
        {
            final int slot = slots.slot(map.route(guestQueue, i));
            final long ewma = ewmaNanos[slot];
            final long cost = (ewma == 0 ? unknown : ewma) * (Math.min(outstanding.ofSlot(slot), MAX_OUTSTANDING_FACTOR) + 1);
            if (cost < bestCost)
            {
                bestCost = cost;
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
        final int slot = outstanding.onComplete(route);
        final long sample = Math.max(1, Math.min(serviceNanos, MAX_SAMPLE_NANOS));
        final long ewma = ewmaNanos[slot];
        ewmaNanos[slot] = ewma == 0 ? sample : Math.max(1, ewma + ((sample - ewma) >> weightShift));
    }

    /** The smoothed service time of {@code route} in nanoseconds, 0 before the first sample. */
    public long ewmaNanos(final int route)
    {
        return ewmaNanos[slots.slot(route)];
    }

    public long outstanding(final int route)
    {
        return outstanding.of(route);
    }
}
