package dev.braid.ha;

import dev.braid.mapper.QueueMap;

/**
 * Active-passive: every guest queue goes to one card, the highest-priority usable one; standbys
 * take over in pool priority order. Guest queue {@code g} uses card queue {@code g mod queueCount}.
 *
 * <p>Failover (the serving card is no longer usable) is a {@link #repair}: published at once.
 * Failback (a higher-priority card is UP again) is a {@link #plan} of drained moves, taken when the
 * {@link Failback} mode allows. A half-executed failback that got aborted is finished by the next
 * plan (consolidation onto the highest-priority card in use), whatever the mode.
 */
public final class ActivePassivePolicy implements MapPolicy
{
    private final int guestQueueCount;
    private final Failback failback;
    private boolean failbackRequested;

    public ActivePassivePolicy(final int guestQueueCount, final Failback failback)
    {
        this.guestQueueCount = Routes.guestQueueCount(guestQueueCount);
        this.failback = failback;
    }

    public int guestQueueCount()
    {
        return guestQueueCount;
    }

    public Failback failbackMode()
    {
        return failback;
    }

    /**
     * Asks for a failback at the next {@link #plan}, in any mode (MANUAL needs it). One-shot: if no
     * higher-priority card is UP at that evaluation, the request lapses.
     */
    public void failback()
    {
        failbackRequested = true;
    }

    public QueueMap repair(final QueueMap current, final CardPool pool, final long nowNanos)
    {
        Routes.checkGuestQueues(current, guestQueueCount);
        final int target = highestUsable(pool);
        final QueueMap.Builder b = QueueMap.builder(guestQueueCount);
        for (int g = 0; g < guestQueueCount; g++)
        {
            final int kept = firstUsableRoute(current, g, pool);
            if (kept >= 0)
            {
                b.add(g, QueueMap.cardOf(kept), QueueMap.queueOf(kept));
            }
            else if (target >= 0)
            {
                b.add(g, target, g % pool.queueCount(target));
            }
        }
        return Routes.changedOrCurrent(current, b);
    }

    public RebalancePlan plan(final QueueMap current, final CardPool pool, final long nowNanos)
    {
        Routes.checkGuestQueues(current, guestQueueCount);
        final boolean requested = failbackRequested;
        failbackRequested = false;

        final int serving = highestInUse(current, pool);
        if (serving < 0 || Routes.needsRepair(current, pool))
        {
            return RebalancePlan.empty(current);
        }
        int desired = serving;
        final int servingPriority = pool.priorityOf(serving);
        for (int i = 0; i < servingPriority; i++)
        {
            final int c = pool.cardAt(i);
            if (failbackCandidate(pool, c) && eligible(pool, c, nowNanos, requested))
            {
                desired = c;
                break;
            }
        }

        final int[] gq = new int[guestQueueCount];
        final int[] from = new int[guestQueueCount];
        final int[] to = new int[guestQueueCount];
        int n = 0;
        for (int g = 0; g < guestQueueCount; g++)
        {
            final int r = current.route(g, 0);
            if (current.routeCount(g) != 1 || QueueMap.cardOf(r) != desired)
            {
                gq[n] = g;
                from[n] = r;
                to[n] = QueueMap.encodeRoute(desired, g % pool.queueCount(desired));
                n++;
            }
        }
        return new RebalancePlan(current, Routes.toArray(gq, n), Routes.toArray(from, n), Routes.toArray(to, n));
    }

    public long reevaluateAtNanos(final QueueMap current, final CardPool pool, final long nowNanos)
    {
        if (failback.mode() != Failback.Mode.DELAYED)
        {
            return Long.MAX_VALUE;
        }
        final int serving = highestInUse(current, pool);
        if (serving < 0)
        {
            return Long.MAX_VALUE;
        }
        long at = Long.MAX_VALUE;
        final int servingPriority = pool.priorityOf(serving);
        for (int i = 0; i < servingPriority; i++)
        {
            final int c = pool.cardAt(i);
            if (failbackCandidate(pool, c))
            {
                at = Math.min(at, pool.upSinceNanos(c) + failback.delayNanos());
            }
        }
        return at;
    }

    private boolean eligible(final CardPool pool, final int card, final long nowNanos, final boolean requested)
    {
        switch (failback.mode())
        {
            case IMMEDIATE:
                return true;
            case DELAYED:
                return requested || nowNanos - pool.upSinceNanos(card) >= failback.delayNanos();
            default:
                return requested;
        }
    }

    /** Failback goes only to a card that is fully UP, not one that is merely still usable. */
    private static boolean failbackCandidate(final CardPool pool, final int card)
    {
        return pool.membership(card) == Membership.ACTIVE && pool.health(card) == HealthState.UP;
    }

    private static int highestUsable(final CardPool pool)
    {
        for (int i = 0; i < pool.size(); i++)
        {
            if (pool.isUsable(pool.cardAt(i)))
            {
                return pool.cardAt(i);
            }
        }
        return -1;
    }

    /** The highest-priority pool card the map routes to, or -1. */
    private static int highestInUse(final QueueMap current, final CardPool pool)
    {
        for (int i = 0; i < pool.size(); i++)
        {
            if (current.usesCard(pool.cardAt(i)))
            {
                return pool.cardAt(i);
            }
        }
        return -1;
    }

    private static int firstUsableRoute(final QueueMap current, final int g, final CardPool pool)
    {
        for (int i = 0; i < current.routeCount(g); i++)
        {
            final int r = current.route(g, i);
            if (pool.isUsable(QueueMap.cardOf(r)) && QueueMap.queueOf(r) < pool.queueCount(QueueMap.cardOf(r)))
            {
                return r;
            }
        }
        return -1;
    }

    public String toString()
    {
        return "ActivePassivePolicy{guestQueues=" + guestQueueCount + ", failback=" + failback + '}';
    }
}
