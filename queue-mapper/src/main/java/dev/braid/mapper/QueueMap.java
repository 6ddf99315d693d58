package dev.braid.mapper;

import java.util.Arrays;

/**
 * An immutable snapshot of which card queues each guest queue may use, stamped with an epoch.
 *
 * <p>A route names one card queue as {@code (card << 16) | queue}. A guest queue with one route is
 * queue-affine; with several, a {@link RouteSelector} sprays over them. A guest queue with no
 * route has nowhere to go: every card that could serve it is down.
 *
 * <p>Immutable, so a reader that obtained it through {@link QueueMapPublisher#current()} sees it
 * whole without further synchronisation.
 */
public final class QueueMap
{
    private static final int[] NO_ROUTES = new int[0];

    private final long epoch;
    private final int[][] routes;

    private QueueMap(final long epoch, final int[][] routes)
    {
        this.epoch = epoch;
        this.routes = routes;
    }

    public static int encodeRoute(final int card, final int queue)
    {
        if (card < 0 || card > 0x7FFF || queue < 0 || queue > 0xFFFF)
        {
            throw new IllegalArgumentException("route out of range: card=" + card + " queue=" + queue);
        }
        return card << 16 | queue;
    }

    public static int cardOf(final int route)
    {
        return route >>> 16;
    }

    public static int queueOf(final int route)
    {
        return route & 0xFFFF;
    }

    public long epoch()
    {
        return epoch;
    }

    public int guestQueueCount()
    {
        return routes.length;
    }

    public int routeCount(final int guestQueue)
    {
        return routes[guestQueue].length;
    }

    public int route(final int guestQueue, final int index)
    {
        return routes[guestQueue][index];
    }

    /** Whether any route of {@code guestQueue} goes to {@code card}. */
    public boolean usesCard(final int guestQueue, final int card)
    {
        for (final int r : routes[guestQueue])
        {
            if (cardOf(r) == card)
            {
                return true;
            }
        }
        return false;
    }

    /** Whether any guest queue is routed to {@code card}. */
    public boolean usesCard(final int card)
    {
        for (int g = 0; g < routes.length; g++)
        {
            if (usesCard(g, card))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether every route names a card below {@code maxCards} and a card queue below
     * {@code maxQueuesPerCard}: the route space selectors were built for (see {@link RouteSlots}).
     * Check before publishing a map to front queues whose selectors have that space.
     */
    public boolean fitsWithin(final int maxCards, final int maxQueuesPerCard)
    {
        for (final int[] guestRoutes : routes)
        {
            for (final int r : guestRoutes)
            {
                if (cardOf(r) >= maxCards || queueOf(r) >= maxQueuesPerCard)
                {
                    return false;
                }
            }
        }
        return true;
    }

    /** A copy of the routes of one guest queue (not for the hot path). */
    public int[] routes(final int guestQueue)
    {
        return routes[guestQueue].clone();
    }

    public boolean sameRoutes(final QueueMap other)
    {
        return Arrays.deepEquals(routes, other.routes);
    }

    public String toString()
    {
        final StringBuilder sb = new StringBuilder("QueueMap{epoch=").append(epoch);
        for (int g = 0; g < routes.length; g++)
        {
            sb.append(", g").append(g).append("->[");
            for (int i = 0; i < routes[g].length; i++)
            {
                sb.append(i == 0 ? "" : " ").append('c').append(cardOf(routes[g][i])).append('q').append(queueOf(routes[g][i]));
            }
            sb.append(']');
        }
        return sb.append('}').toString();
    }

    public static Builder builder(final int guestQueueCount)
    {
        return new Builder(guestQueueCount);
    }

    /** Builds a map; not thread-safe, used by the policy thread. */
    public static final class Builder
    {
        private final int[][] routes;

        private Builder(final int guestQueueCount)
        {
            if (guestQueueCount <= 0)
            {
                throw new IllegalArgumentException("guest queue count must be positive: " + guestQueueCount);
            }
            routes = new int[guestQueueCount][];
            Arrays.fill(routes, NO_ROUTES);
        }

        public Builder add(final int guestQueue, final int card, final int cardQueue)
        {
            final int[] old = routes[guestQueue];
            final int[] grown = Arrays.copyOf(old, old.length + 1);
            grown[old.length] = encodeRoute(card, cardQueue);
            routes[guestQueue] = grown;
            return this;
        }

        public Builder clear(final int guestQueue)
        {
            routes[guestQueue] = NO_ROUTES;
            return this;
        }

        public QueueMap build(final long epoch)
        {
            final int[][] copy = new int[routes.length][];
            for (int g = 0; g < routes.length; g++)
            {
                copy[g] = routes[g].clone();
            }
            return new QueueMap(epoch, copy);
        }
    }
}
