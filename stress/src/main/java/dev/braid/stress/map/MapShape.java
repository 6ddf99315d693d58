package dev.braid.stress.map;

import dev.braid.mapper.QueueMap;

/**
 * Maps whose routes are a function of their epoch, so a reader can tell a whole map of epoch
 * {@code e} from one that is partly built or mixes two epochs.
 */
final class MapShape
{
    static final int GUEST_QUEUES = 2;

    private MapShape()
    {
    }

    /** Epoch {@code e}: every guest queue {@code g} has {@code e} routes, route {@code i} on card {@code e + i}, queue {@code g}. */
    static QueueMap build(final long epoch)
    {
        final QueueMap.Builder builder = QueueMap.builder(GUEST_QUEUES);
        for (int g = 0; g < GUEST_QUEUES; g++)
        {
            for (int i = 0; i < epoch; i++)
            {
                builder.add(g, (int)epoch + i, g);
            }
        }
        return builder.build(epoch);
    }

    /** The map's epoch if its routes are exactly those of that epoch, else -1. */
    static int check(final QueueMap map)
    {
        final int epoch = (int)map.epoch();
        if (map.guestQueueCount() != GUEST_QUEUES)
        {
            return -1;
        }
        for (int g = 0; g < GUEST_QUEUES; g++)
        {
            if (map.routeCount(g) != epoch)
            {
                return -1;
            }
            for (int i = 0; i < epoch; i++)
            {
                if (map.route(g, i) != QueueMap.encodeRoute(epoch + i, g))
                {
                    return -1;
                }
            }
        }
        return epoch;
    }
}
