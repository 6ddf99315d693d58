package dev.braid.mapper;

import java.util.HashSet;
import java.util.Set;

import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.*;

@ExtendWith(SeedExtension.class)
class SelectorsTest
{
    private static final int CARDS = 4;
    private static final int QUEUES = 8;

    // The service-time tests: one guest queue over two routes (card 0, card 1), a fresh selector each.
    private final QueueMap twoRoutes = map(0, 0, 1, 0);
    private final ServiceTimeSelector serviceTime = new ServiceTimeSelector(CARDS, QUEUES);
    private final int routeA = twoRoutes.route(0, 0);
    private final int routeB = twoRoutes.route(0, 1);

    private static QueueMap map(final int... cardQueuePairs)
    {
        final QueueMap.Builder builder = QueueMap.builder(1);
        for (int i = 0; i < cardQueuePairs.length; i += 2)
        {
            builder.add(0, cardQueuePairs[i], cardQueuePairs[i + 1]);
        }
        return builder.build(1);
    }

    /** One request on {@code route}, submitted and completed after {@code nanos}. */
    private static void served(final RouteSelector selector, final int route, final long nanos)
    {
        selector.onSubmit(route);
        selector.onComplete(route, nanos);
    }

    @Test
    void queueAffineAlwaysPicksFirstRoute()
    {
        final QueueMap map = map(2, 1, 0, 0, 3, 5);
        final RouteSelector selector = SelectorKind.QUEUE_AFFINE.newSelector(CARDS, QUEUES, 1);
        for (int i = 0; i < 1000; i++)
        {
            assertEquals(0, selector.select(map, 0, i * 7919));
            selector.onSubmit(map.route(0, 0));
        }
    }

    @Test
    void roundRobinIsExactlyFair()
    {
        final QueueMap map = map(0, 0, 1, 0, 2, 3);
        final RoundRobinSelector selector = new RoundRobinSelector();
        final int[] counts = new int[3];
        for (int i = 0; i < 300; i++)
        {
            final int index = selector.select(map, 0, 0);
            assertEquals(i % 3, index);
            counts[index]++;
        }
        assertArrayEquals(new int[]{ 100, 100, 100 }, counts);
    }

    @Test
    void roundRobinStaysInRangeWhenMapShrinks()
    {
        final RoundRobinSelector selector = new RoundRobinSelector();
        final QueueMap three = map(0, 0, 1, 0, 2, 0);
        selector.select(three, 0, 0);
        selector.select(three, 0, 0);
        final QueueMap one = map(1, 0);
        for (int i = 0; i < 10; i++)
        {
            assertEquals(0, selector.select(one, 0, 0));
        }
    }

    @Test
    void leastOutstandingPicksMinimum()
    {
        final QueueMap map = map(0, 0, 1, 0, 2, 0);
        final LeastOutstandingSelector selector = new LeastOutstandingSelector(CARDS, QUEUES, 42);
        submit(selector, map.route(0, 0), 3);
        submit(selector, map.route(0, 1), 1);
        submit(selector, map.route(0, 2), 2);
        assertEquals(1, selector.select(map, 0, 0));

        selector.onComplete(map.route(0, 0), 10);
        selector.onComplete(map.route(0, 0), 10);
        selector.onComplete(map.route(0, 0), 10);
        assertEquals(0, selector.outstanding(map.route(0, 0)));
        assertEquals(0, selector.select(map, 0, 0));

        // A stray completion never drives the count negative.
        selector.onComplete(map.route(0, 0), 10);
        assertEquals(0, selector.outstanding(map.route(0, 0)));
    }

    @Test
    void leastOutstandingKeepsRoutesBalancedUnderLoad()
    {
        final QueueMap map = map(0, 0, 1, 1, 3, 7);
        final LeastOutstandingSelector selector = new LeastOutstandingSelector(CARDS, QUEUES, 7);
        for (int i = 0; i < 30; i++)
        {
            selector.onSubmit(map.route(0, selector.select(map, 0, 0)));
        }
        for (int i = 0; i < 3; i++)
        {
            assertEquals(10, selector.outstanding(map.route(0, i)));
        }
    }

    @Test
    void leastOutstandingTieBreakVariesWithSeedAndIsReproducible()
    {
        final QueueMap map = map(0, 0, 1, 0, 2, 0, 3, 0);
        final Set<Integer> firstPicks = new HashSet<>();
        final int[] counts = new int[4];
        for (long seed = 0; seed < 400; seed++)
        {
            final int pick = new LeastOutstandingSelector(CARDS, QUEUES, seed).select(map, 0, 0);
            assertEquals(pick, new LeastOutstandingSelector(CARDS, QUEUES, seed).select(map, 0, 0));
            firstPicks.add(pick);
            counts[pick]++;
        }
        assertEquals(4, firstPicks.size());
        for (final int count : counts)
        {
            assertTrue(count > 60 && count < 140, "tie-break not uniform: " + java.util.Arrays.toString(counts));
        }
    }

    @Test
    void serviceTimePrefersFasterRoute()
    {
        // Route A is the fast one.
        served(serviceTime, routeA, 10_000);
        served(serviceTime, routeB, 40_000);

        // Keep requests outstanding: the fast route takes ~4x as many before the slow one is cheaper.
        final int[] counts = new int[2];
        for (int i = 0; i < 50; i++)
        {
            final int index = serviceTime.select(twoRoutes, 0, 0);
            counts[index]++;
            serviceTime.onSubmit(twoRoutes.route(0, index));
        }
        assertTrue(counts[0] >= 3 * counts[1] && counts[1] > 0, "fast/slow split " + counts[0] + "/" + counts[1]);
    }

    @Test
    void serviceTimeTriesUnmeasuredRouteAndTracksChange()
    {
        served(serviceTime, routeA, 50_000);
        assertEquals(50_000, serviceTime.ewmaNanos(routeA));
        serviceTime.onSubmit(routeA);
        // B has no sample: assumed as fast as A, and A has one outstanding, so B gets the next one.
        assertEquals(1, serviceTime.select(twoRoutes, 0, 0));

        serviceTime.onComplete(routeA, 50_000);
        for (int i = 0; i < 100; i++)
        {
            served(serviceTime, routeB, 1_000_000);
        }
        assertEquals(0, serviceTime.select(twoRoutes, 0, 0));
        for (int i = 0; i < 200; i++)
        {
            served(serviceTime, routeB, 1_000);
        }
        assertTrue(serviceTime.ewmaNanos(routeB) < 2_000, "ewma follows: " + serviceTime.ewmaNanos(routeB));
        assertEquals(1, serviceTime.select(twoRoutes, 0, 0));
    }

    @Test
    void serviceTimeSurvivesExtremeSamples()
    {
        for (int i = 0; i < 1000; i++)
        {
            serviceTime.onSubmit(routeA);
        }
        serviceTime.onComplete(routeA, Long.MAX_VALUE);
        serviceTime.onComplete(routeB, -5);
        final int index = serviceTime.select(twoRoutes, 0, 0);
        assertTrue(index == 0 || index == 1);
        assertEquals(1, index);
    }

    @Test
    void flowHashIsStableAndIndependentOfRouteOrder(final Seed seed)
    {
        final QueueMap forward = map(0, 0, 1, 0, 2, 0, 3, 0);
        final QueueMap reversed = map(3, 0, 2, 0, 1, 0, 0, 0);
        final RouteSelector selector = SelectorKind.FLOW_HASH.newSelector(CARDS, QUEUES, 0);
        final java.util.Random random = new java.util.Random(seed.value());
        for (int i = 0; i < seed.seeds(); i++)
        {
            final int hash = random.nextInt();
            final int pick = selector.select(forward, 0, hash);
            assertEquals(pick, selector.select(forward, 0, hash));
            assertEquals(forward.route(0, pick), reversed.route(0, selector.select(reversed, 0, hash)));
        }
    }

    @Test
    void flowHashSpreadsAndMovesOnlyFlowsOfRemovedRoute()
    {
        final QueueMap four = map(0, 0, 1, 0, 2, 0, 3, 0);
        final QueueMap three = map(0, 0, 1, 0, 3, 0);
        final RouteSelector selector = FlowHashSelector.INSTANCE;
        final int flows = 40_000;
        final int[] counts = new int[4];
        for (int flow = 0; flow < flows; flow++)
        {
            final int hash = FlowHash.ofSector(flow, 0);
            final int before = four.route(0, selector.select(four, 0, hash));
            counts[QueueMap.cardOf(before)]++;
            final int after = three.route(0, selector.select(three, 0, hash));
            if (QueueMap.cardOf(before) != 2)
            {
                assertEquals(before, after, "flow " + flow + " moved though its route stayed");
            }
        }
        for (final int count : counts)
        {
            assertEquals(flows / 4.0, count, flows / 4.0 * 0.05, "spread " + java.util.Arrays.toString(counts));
        }
    }

    @Test
    void flowHashSpreadsSequentialHashes()
    {
        final QueueMap map = map(0, 0, 0, 1, 1, 0);
        final int[] counts = new int[3];
        for (int hash = 0; hash < 30_000; hash++)
        {
            counts[FlowHashSelector.INSTANCE.select(map, 0, hash)]++;
        }
        for (final int count : counts)
        {
            assertEquals(10_000, count, 600, java.util.Arrays.toString(counts));
        }
    }

    @Test
    void selectorsRejectRoutesOutsideTheirSpace()
    {
        final QueueMap map = map(5, 0);
        assertThrows(IllegalArgumentException.class, () -> new LeastOutstandingSelector(4, 8, 0).select(map, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new ServiceTimeSelector(4, 8).onSubmit(map.route(0, 0)));
        assertThrows(IllegalArgumentException.class, () -> new RouteSlots(0, 8));
        assertFalse(map.fitsWithin(4, 8));
        assertTrue(map.fitsWithin(6, 1));
        assertFalse(map.fitsWithin(6, 0));
        final RouteSlots slots = new RouteSlots(4, 8);
        assertEquals(3 * 8 + 7, slots.slot(QueueMap.encodeRoute(3, 7)));
        assertFalse(slots.contains(QueueMap.encodeRoute(0, 8)));
    }

    private static void submit(final RouteSelector selector, final int route, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            selector.onSubmit(route);
        }
    }
}
