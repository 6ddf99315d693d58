package dev.braid.ha;

import dev.braid.mapper.QueueMap;

/**
 * An ordered list of moves {@code (guest queue, from route, to route)} between usable cards, with
 * the map to publish after each one. The aggregator executes one move at a time: it stops
 * dispatching the guest queue, waits until its in-flight requests on {@code from} completed, then
 * {@link #mapAfter(int)} is published. Map {@code i} has epoch {@code base.epoch() + i + 1}, so the
 * plan is valid only while nothing else is published; any other change aborts it.
 *
 * <p>Immutable; all intermediate maps are built up front so executing a plan allocates nothing.
 */
public final class RebalancePlan
{
    private final QueueMap base;
    private final int[] guestQueues;
    private final int[] fromRoutes;
    private final int[] toRoutes;
    private final QueueMap[] maps;

    RebalancePlan(final QueueMap base, final int[] guestQueues, final int[] fromRoutes, final int[] toRoutes)
    {
        this.base = base;
        this.guestQueues = guestQueues.clone();
        this.fromRoutes = fromRoutes.clone();
        this.toRoutes = toRoutes.clone();
        this.maps = new QueueMap[guestQueues.length];

        final int g = base.guestQueueCount();
        final int[][] routes = new int[g][];
        for (int q = 0; q < g; q++)
        {
            routes[q] = base.routes(q);
        }
        for (int i = 0; i < guestQueues.length; i++)
        {
            final int[] r = routes[guestQueues[i]];
            boolean found = false;
            for (int k = 0; k < r.length; k++)
            {
                if (r[k] == fromRoutes[i])
                {
                    r[k] = toRoutes[i];
                    found = true;
                    break;
                }
            }
            if (!found)
            {
                throw new IllegalArgumentException(
                    "move " + i + ": guest queue " + guestQueues[i] + " has no route c" + QueueMap.cardOf(fromRoutes[i]) +
                    "q" + QueueMap.queueOf(fromRoutes[i]));
            }
            maps[i] = build(routes, base.epoch() + i + 1);
        }
    }

    /** A plan with no moves. */
    public static RebalancePlan empty(final QueueMap base)
    {
        return new RebalancePlan(base, new int[0], new int[0], new int[0]);
    }

    public QueueMap base()
    {
        return base;
    }

    public int size()
    {
        return guestQueues.length;
    }

    public boolean isEmpty()
    {
        return guestQueues.length == 0;
    }

    public int guestQueue(final int move)
    {
        return guestQueues[move];
    }

    public int fromRoute(final int move)
    {
        return fromRoutes[move];
    }

    public int toRoute(final int move)
    {
        return toRoutes[move];
    }

    /** The map once moves {@code 0..move} are done. */
    public QueueMap mapAfter(final int move)
    {
        return maps[move];
    }

    /** The map once every move is done ({@link #base()} when empty). */
    public QueueMap finalMap()
    {
        return maps.length == 0 ? base : maps[maps.length - 1];
    }

    private static QueueMap build(final int[][] routes, final long epoch)
    {
        final QueueMap.Builder b = QueueMap.builder(routes.length);
        for (int g = 0; g < routes.length; g++)
        {
            for (final int r : routes[g])
            {
                b.add(g, QueueMap.cardOf(r), QueueMap.queueOf(r));
            }
        }
        return b.build(epoch);
    }

    public String toString()
    {
        final StringBuilder sb = new StringBuilder("RebalancePlan{base=").append(base.epoch()).append(", moves=[");
        for (int i = 0; i < guestQueues.length; i++)
        {
            sb.append(i == 0 ? "" : ", ").append('g').append(guestQueues[i])
                .append(": c").append(QueueMap.cardOf(fromRoutes[i])).append('q').append(QueueMap.queueOf(fromRoutes[i]))
                .append("->c").append(QueueMap.cardOf(toRoutes[i])).append('q').append(QueueMap.queueOf(toRoutes[i]));
        }
        return sb.append("]}").toString();
    }
}
