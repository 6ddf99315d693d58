package dev.braid.ha;

import java.util.Arrays;

import dev.braid.mapper.QueueMap;

/** Small helpers the policies share. */
final class Routes
{
    private Routes()
    {
    }

    /** A policy's guest queue count, checked against the queue map's 16-bit guest queue space. */
    static int guestQueueCount(final int guestQueueCount)
    {
        if (guestQueueCount <= 0 || guestQueueCount > 0x10000)
        {
            throw new IllegalArgumentException("guest queue count must be in [1, 65536]: " + guestQueueCount);
        }
        return guestQueueCount;
    }

    static void checkGuestQueues(final QueueMap current, final int guestQueueCount)
    {
        if (current.guestQueueCount() != guestQueueCount)
        {
            throw new IllegalArgumentException(
                "map has " + current.guestQueueCount() + " guest queues, policy " + guestQueueCount);
        }
    }

    /** {@code current} when {@code candidate} routes the same, else {@code candidate}. */
    static QueueMap changedOrCurrent(final QueueMap current, final QueueMap.Builder candidate)
    {
        final QueueMap next = candidate.build(current.epoch() + 1);
        return next.sameRoutes(current) ? current : next;
    }

    /** Whether some guest queue has a route to an unusable card (or card queue), or none while a card is usable. */
    static boolean needsRepair(final QueueMap current, final CardPool pool)
    {
        final boolean anyUsable = pool.usableCount() > 0;
        for (int g = 0; g < current.guestQueueCount(); g++)
        {
            final int n = current.routeCount(g);
            if (n == 0 && anyUsable)
            {
                return true;
            }
            for (int i = 0; i < n; i++)
            {
                final int r = current.route(g, i);
                final int card = QueueMap.cardOf(r);
                if (!pool.isUsable(card) || QueueMap.queueOf(r) >= pool.queueCount(card))
                {
                    return true;
                }
            }
        }
        return false;
    }

    static int[] toArray(final int[] values, final int count)
    {
        return Arrays.copyOf(values, count);
    }
}
