package dev.braid.mapper;

/**
 * Maps a route {@code (card << 16) | queue} to a dense slot {@code card * maxQueuesPerCard + queue},
 * so selectors keep per-route state in flat primitive arrays instead of maps.
 */
public final class RouteSlots
{
    private final int maxCards;
    private final int maxQueuesPerCard;

    public RouteSlots(final int maxCards, final int maxQueuesPerCard)
    {
        if (maxCards <= 0 || maxCards > 0x8000 || maxQueuesPerCard <= 0 || maxQueuesPerCard > 0x10000 ||
            (long)maxCards * maxQueuesPerCard > 1 << 20)
        {
            throw new IllegalArgumentException(
                "route space out of range: maxCards=" + maxCards + " maxQueuesPerCard=" + maxQueuesPerCard);
        }
        this.maxCards = maxCards;
        this.maxQueuesPerCard = maxQueuesPerCard;
    }

    public int maxCards()
    {
        return maxCards;
    }

    public int maxQueuesPerCard()
    {
        return maxQueuesPerCard;
    }

    /** Number of slots, the length of a per-route state array. */
    public int slotCount()
    {
        return maxCards * maxQueuesPerCard;
    }

    public boolean contains(final int route)
    {
        return QueueMap.cardOf(route) < maxCards && QueueMap.queueOf(route) < maxQueuesPerCard;
    }

    /**
     * The slot of {@code route}. Routes come from a {@link QueueMap} the policy built, never from the
     * guest; one outside the configured space is a configuration bug, reported loudly rather than
     * aliased onto another route's state.
     */
    public int slot(final int route)
    {
        final int card = QueueMap.cardOf(route);
        final int queue = QueueMap.queueOf(route);
        if (card >= maxCards || queue >= maxQueuesPerCard)
        {
            throw new IllegalArgumentException("route c" + card + "q" + queue + " outside route space " +
                maxCards + "x" + maxQueuesPerCard);
        }
        return card * maxQueuesPerCard + queue;
    }
}
