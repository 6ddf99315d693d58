package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.QueueMap;

/**
 * Active-active: every usable card serves.
 *
 * <p>{@link DispatchMode#QUEUE_AFFINE}: each guest queue has one route. {@link #repair} gives each
 * orphaned guest queue (its card unusable, or no route) to the usable card with the fewest guest
 * queues (ties: higher priority), on that card's least-loaded card queue (ties: lowest index), in
 * guest-queue order. Guest queues on surviving cards never move, and a map balanced within one
 * stays balanced within one. {@link #plan} rebalances after a recovery or hot-add with the fewest
 * moves: the most-loaded cards keep the {@code G mod n} extra guest queues, every other excess guest
 * queue (highest index first, from its card's busiest card queue) moves to the card short the most.
 *
 * <p>{@link DispatchMode#REQUEST_SPRAY}: guest queue {@code g} gets route {@code (c, g mod q(c))} on
 * every usable card {@code c}, in priority order. Adding or dropping a route moves no guest queue,
 * so {@link #repair} does it all and {@link #plan} is always empty.
 */
public final class ActiveActivePolicy implements MapPolicy
{
    private final int guestQueueCount;
    private final DispatchMode mode;

    public ActiveActivePolicy(final int guestQueueCount, final DispatchMode mode)
    {
        this.guestQueueCount = Routes.guestQueueCount(guestQueueCount);
        if (mode == null)
        {
            throw new IllegalArgumentException("active-active needs a dispatch mode: null");
        }
        this.mode = mode;
    }

    public int guestQueueCount()
    {
        return guestQueueCount;
    }

    public DispatchMode mode()
    {
        return mode;
    }

    public QueueMap repair(final QueueMap current, final CardPool pool, final long nowNanos)
    {
        Routes.checkGuestQueues(current, guestQueueCount);
        return mode == DispatchMode.REQUEST_SPRAY ? spray(current, pool) : repairAffine(current, pool);
    }

    public RebalancePlan plan(final QueueMap current, final CardPool pool, final long nowNanos)
    {
        Routes.checkGuestQueues(current, guestQueueCount);
        if (mode == DispatchMode.REQUEST_SPRAY || Routes.needsRepair(current, pool) || pool.usableCount() == 0)
        {
            return RebalancePlan.empty(current);
        }
        for (int g = 0; g < guestQueueCount; g++)
        {
            if (current.routeCount(g) != 1)
            {
                return RebalancePlan.empty(current);
            }
        }

        final Load load = new Load(current, pool);
        final int[] usable = usableCards(pool);
        final int n = usable.length;
        final int base = guestQueueCount / n;
        final int extra = guestQueueCount % n;

        // The most loaded cards keep the extra guest queues: that minimises the moves.
        final int[] byLoad = usable.clone();
        sortByLoadDescending(byLoad, load, pool);
        final int[] target = new int[pool.maxCards()];
        for (int i = 0; i < n; i++)
        {
            target[byLoad[i]] = base + (i < extra ? 1 : 0);
        }

        final int[] gq = new int[guestQueueCount];
        final int[] from = new int[guestQueueCount];
        final int[] to = new int[guestQueueCount];
        final int[] routeOf = new int[guestQueueCount];
        for (int g = 0; g < guestQueueCount; g++)
        {
            routeOf[g] = current.route(g, 0);
        }
        int moves = 0;
        for (final int donor : byLoad)
        {
            while (load.cards[donor] > target[donor])
            {
                final int g = pickDonated(routeOf, donor, load);
                final int receiver = mostShort(byLoad, load, target);
                final int toRoute = QueueMap.encodeRoute(receiver, load.leastLoadedQueue(receiver));
                gq[moves] = g;
                from[moves] = routeOf[g];
                to[moves] = toRoute;
                moves++;
                load.remove(routeOf[g]);
                load.add(toRoute);
                routeOf[g] = toRoute;
            }
        }
        return new RebalancePlan(current, Routes.toArray(gq, moves), Routes.toArray(from, moves), Routes.toArray(to, moves));
    }

    private QueueMap spray(final QueueMap current, final CardPool pool)
    {
        final QueueMap.Builder b = QueueMap.builder(guestQueueCount);
        for (int g = 0; g < guestQueueCount; g++)
        {
            for (int i = 0; i < pool.size(); i++)
            {
                final int c = pool.cardAt(i);
                if (pool.isUsable(c))
                {
                    b.add(g, c, g % pool.queueCount(c));
                }
            }
        }
        return Routes.changedOrCurrent(current, b);
    }

    private QueueMap repairAffine(final QueueMap current, final CardPool pool)
    {
        final Load load = new Load(current, pool);
        final int[] usable = usableCards(pool);
        final int[] routeOf = new int[guestQueueCount];
        for (int g = 0; g < guestQueueCount; g++)
        {
            routeOf[g] = load.keptRoute(current, g);
        }
        final QueueMap.Builder b = QueueMap.builder(guestQueueCount);
        for (int g = 0; g < guestQueueCount; g++)
        {
            int r = routeOf[g];
            if (r < 0 && usable.length > 0)
            {
                int best = usable[0];
                for (final int c : usable)
                {
                    if (load.cards[c] < load.cards[best])
                    {
                        best = c;
                    }
                }
                r = QueueMap.encodeRoute(best, load.leastLoadedQueue(best));
                load.add(r);
            }
            if (r >= 0)
            {
                b.add(g, QueueMap.cardOf(r), QueueMap.queueOf(r));
            }
        }
        return Routes.changedOrCurrent(current, b);
    }

    /** Of the donor's guest queues, the highest-index one on its busiest card queue. */
    private static int pickDonated(final int[] routeOf, final int donor, final Load load)
    {
        int bestG = -1;
        int bestQueueLoad = -1;
        for (int g = routeOf.length - 1; g >= 0; g--)
        {
            if (QueueMap.cardOf(routeOf[g]) == donor)
            {
                final int ql = load.queues[donor][QueueMap.queueOf(routeOf[g])];
                if (ql > bestQueueLoad)
                {
                    bestQueueLoad = ql;
                    bestG = g;
                }
            }
        }
        return bestG;
    }

    private static int mostShort(final int[] cards, final Load load, final int[] target)
    {
        int best = -1;
        int bestShort = 0;
        for (final int c : cards)
        {
            final int s = target[c] - load.cards[c];
            if (s > bestShort)
            {
                bestShort = s;
                best = c;
            }
        }
        return best;
    }

    private static void sortByLoadDescending(final int[] cards, final Load load, final CardPool pool)
    {
        // Insertion sort: pools are small and the order must be deterministic (ties: priority).
        for (int i = 1; i < cards.length; i++)
        {
            final int c = cards[i];
            int j = i - 1;
            while (j >= 0 && (load.cards[cards[j]] < load.cards[c] ||
                (load.cards[cards[j]] == load.cards[c] && pool.priorityOf(cards[j]) > pool.priorityOf(c))))
            {
                cards[j + 1] = cards[j];
                j--;
            }
            cards[j + 1] = c;
        }
    }

    private static int[] usableCards(final CardPool pool)
    {
        final int[] cards = new int[pool.usableCount()];
        int n = 0;
        for (int i = 0; i < pool.size(); i++)
        {
            if (pool.isUsable(pool.cardAt(i)))
            {
                cards[n++] = pool.cardAt(i);
            }
        }
        return cards;
    }

    /** Guest queues per usable card and per card queue, counting only routes that stay. */
    private static final class Load
    {
        final CardPool pool;
        final int[] cards;
        final int[][] queues;

        Load(final QueueMap map, final CardPool pool)
        {
            this.pool = pool;
            cards = new int[pool.maxCards()];
            queues = new int[pool.maxCards()][];
            for (int i = 0; i < pool.size(); i++)
            {
                final int c = pool.cardAt(i);
                if (pool.isUsable(c))
                {
                    queues[c] = new int[pool.queueCount(c)];
                }
            }
            for (int g = 0; g < map.guestQueueCount(); g++)
            {
                final int r = keptRoute(map, g);
                if (r >= 0)
                {
                    add(r);
                }
            }
        }

        /** The guest queue's first route when it is to a usable card queue, else -1 (orphan). */
        int keptRoute(final QueueMap map, final int g)
        {
            if (map.routeCount(g) == 0)
            {
                return -1;
            }
            final int r = map.route(g, 0);
            final int c = QueueMap.cardOf(r);
            return pool.isUsable(c) && QueueMap.queueOf(r) < queues[c].length ? r : -1;
        }

        void add(final int route)
        {
            cards[QueueMap.cardOf(route)]++;
            queues[QueueMap.cardOf(route)][QueueMap.queueOf(route)]++;
        }

        void remove(final int route)
        {
            cards[QueueMap.cardOf(route)]--;
            queues[QueueMap.cardOf(route)][QueueMap.queueOf(route)]--;
        }

        int leastLoadedQueue(final int card)
        {
            final int[] q = queues[card];
            int best = 0;
            for (int i = 1; i < q.length; i++)
            {
                if (q[i] < q[best])
                {
                    best = i;
                }
            }
            return best;
        }
    }

    public String toString()
    {
        return "ActiveActivePolicy{guestQueues=" + guestQueueCount + ", mode=" + mode + '}';
    }
}
