package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import dev.braid.mapper.QueueMap;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(SeedExtension.class)
class ActiveActivePolicyTest
{
    @Test
    void affineSpreadsRoundRobinOverCardQueues()
    {
        final CardPool pool = new CardPool(8).add(0, 2, 0).add(1, 2, 0).add(2, 2, 0);
        final ActiveActivePolicy p = new ActiveActivePolicy(12, DispatchMode.QUEUE_AFFINE);
        final QueueMap m = p.repair(QueueMap.builder(12).build(0), pool, 0);
        System.out.println(m);
        for (int g = 0; g < 12; g++)
        {
            assertEquals(QueueMap.encodeRoute(g % 3, (g / 3) % 2), m.route(g, 0), m.toString());
        }
        assertBalanced(m, pool, "initial");
        assertTrue(p.plan(m, pool, 0).isEmpty());
    }

    @Test
    void failureSpreadsTheDeadCardsQueuesWithoutMovingSurvivors()
    {
        final CardPool pool = new CardPool(8).add(0, 4, 0).add(1, 4, 0).add(2, 4, 0).add(3, 4, 0);
        final ActiveActivePolicy p = new ActiveActivePolicy(8, DispatchMode.QUEUE_AFFINE);
        final QueueMap before = p.repair(QueueMap.builder(8).build(0), pool, 0);
        pool.setHealth(1, HealthState.DOWN, 1);
        final QueueMap after = p.repair(before, pool, 1);
        System.out.println(before + "\n" + after);
        assertEquals(before.epoch() + 1, after.epoch());
        assertSurvivorsKept(before, after, pool);
        assertBalanced(after, pool, "after failure");
        assertTrue(!after.usesCard(1));
        // g1 and g5 were on card 1: they land on two different survivors.
        assertNotSameCard(after, 1, 5);

        pool.setHealth(1, HealthState.UP, 2);
        assertSame(after, p.repair(after, pool, 2), "recovery moves nothing in repair");
        final RebalancePlan plan = p.plan(after, pool, 2);
        System.out.println(plan);
        assertEquals(2, plan.size(), "minimal moves: card 1 needs two guest queues back");
        checkPlan(plan, pool);
        assertBalanced(plan.finalMap(), pool, "after rebalance");
        assertTrue(p.plan(plan.finalMap(), pool, 3).isEmpty());
    }

    @Test
    void hotAddRebalancesByPlanAndHotRemoveDrainsFirst()
    {
        final CardPool pool = new CardPool(8).add(0, 2, 0).add(1, 2, 0);
        final ActiveActivePolicy p = new ActiveActivePolicy(9, DispatchMode.QUEUE_AFFINE);
        QueueMap m = p.repair(QueueMap.builder(9).build(0), pool, 0);

        pool.add(6, 3, 10);
        assertSame(m, p.repair(m, pool, 10), "a new card takes nothing until the plan moves queues");
        final RebalancePlan plan = p.plan(m, pool, 10);
        System.out.println(plan);
        assertEquals(3, plan.size());
        checkPlan(plan, pool);
        m = plan.finalMap();
        assertBalanced(m, pool, "after hot add");

        pool.markRemoving(0);
        assertTrue(!pool.isUsable(0) && pool.membership(0) == Membership.REMOVING);
        final QueueMap without = p.repair(m, pool, 20);
        assertSurvivorsKept(m, without, pool);
        assertTrue(!without.usesCard(0));
        assertBalanced(without, pool, "after hot remove");
        pool.remove(0);
        assertSame(without, p.repair(without, pool, 21));
    }

    @Test
    void sprayGivesEveryGuestQueueARouteOnEveryUsableCard()
    {
        final CardPool pool = new CardPool(8).add(2, 4, 0).add(4, 2, 0).add(7, 3, 0);
        final ActiveActivePolicy p = new ActiveActivePolicy(5, DispatchMode.REQUEST_SPRAY);
        QueueMap m = p.repair(QueueMap.builder(5).build(0), pool, 0);
        System.out.println(m);
        for (int g = 0; g < 5; g++)
        {
            assertEquals(3, m.routeCount(g));
            assertEquals(QueueMap.encodeRoute(2, g % 4), m.route(g, 0));
            assertEquals(QueueMap.encodeRoute(4, g % 2), m.route(g, 1));
            assertEquals(QueueMap.encodeRoute(7, g % 3), m.route(g, 2));
        }
        pool.setHealth(4, HealthState.DOWN, 1);
        final QueueMap after = p.repair(m, pool, 1);
        assertSprayed(after, pool);
        assertSurvivorsKept(m, after, pool);
        pool.setHealth(4, HealthState.UP, 2);
        final QueueMap back = p.repair(after, pool, 2);
        assertTrue(back.sameRoutes(m));
        assertTrue(p.plan(back, pool, 2).isEmpty());
    }

    @Test
    void randomFailuresRecoveriesAndPoolChanges(final Seed seed)
    {
        seed.forEach(seed.seeds(), s -> randomRun(new Random(s)));
    }

    private static void randomRun(final Random rnd)
    {
        final int maxCards = 12;
        final int initialCards = 2 + rnd.nextInt(7);
        final int g = 1 + rnd.nextInt(48);
        final DispatchMode shape = rnd.nextInt(4) == 0 ? DispatchMode.REQUEST_SPRAY : DispatchMode.QUEUE_AFFINE;
        final CardPool pool = new CardPool(maxCards);
        for (int c = 0; c < initialCards; c++)
        {
            pool.add(c, 1 + rnd.nextInt(8), 0);
        }
        final ActiveActivePolicy p = new ActiveActivePolicy(g, shape);
        QueueMap m = p.repair(QueueMap.builder(g).build(0), pool, 0);
        check(m, pool, shape, () -> "initial");
        final List<Integer> removing = new ArrayList<>();

        for (int step = 1; step <= 40; step++)
        {
            final int c = rnd.nextInt(maxCards);
            final String what;
            if (!removing.isEmpty() && rnd.nextInt(4) == 0)
            {
                final int r = removing.remove(0);
                assertTrue(!m.usesCard(r), "a REMOVING card is out of the map before it is dropped");
                pool.remove(r);
                what = "drop c" + r;
            }
            else if (!pool.contains(c))
            {
                pool.add(c, 1 + rnd.nextInt(8), step);
                what = "hot add c" + c;
            }
            else if (pool.membership(c) == Membership.REMOVING)
            {
                continue;
            }
            else if (pool.isUsable(c))
            {
                if (rnd.nextInt(5) == 0)
                {
                    pool.markRemoving(c);
                    removing.add(c);
                    what = "hot remove c" + c;
                }
                else
                {
                    pool.setHealth(c, rnd.nextBoolean() ? HealthState.DOWN : HealthState.PROBING, step);
                    what = "fail c" + c;
                }
            }
            else
            {
                pool.setHealth(c, rnd.nextBoolean() ? HealthState.UP : HealthState.SUSPECT, step);
                what = "recover c" + c;
            }

            final QueueMap before = m;
            m = p.repair(before, pool, step);
            final QueueMap repaired = m;
            final Supplier<String> ctx = () -> what + " " + pool + "\n" + before + "\n" + repaired;
            assertTrue(m == before || m.epoch() == before.epoch() + 1, ctx);
            assertSurvivorsKept(before, m, pool);
            if (shape == DispatchMode.QUEUE_AFFINE)
            {
                assertSameBalanceOrBetter(before, m, pool, ctx);
            }
            final RebalancePlan plan = p.plan(m, pool, step);
            checkPlan(plan, pool);
            assertEquals(minimalMoves(m, pool, g), plan.size(), () -> ctx.get() + "\n" + plan);
            m = plan.finalMap();
            check(m, pool, shape, ctx);
            assertTrue(p.plan(m, pool, step).isEmpty(), ctx);
        }
    }

    static void check(final QueueMap m, final CardPool pool, final DispatchMode shape, final Supplier<String> ctx)
    {
        final boolean anyUsable = pool.usableCount() > 0;
        for (int g = 0; g < m.guestQueueCount(); g++)
        {
            assertEquals(anyUsable, m.routeCount(g) > 0, ctx);
            for (int i = 0; i < m.routeCount(g); i++)
            {
                final int r = m.route(g, i);
                assertTrue(pool.isUsable(QueueMap.cardOf(r)), ctx);
                assertTrue(QueueMap.queueOf(r) < pool.queueCount(QueueMap.cardOf(r)), ctx);
            }
        }
        if (shape == DispatchMode.REQUEST_SPRAY)
        {
            assertSprayed(m, pool);
        }
        else
        {
            assertBalanced(m, pool, ctx);
        }
    }

    /** Every guest queue whose route was on a still-usable card keeps that route. */
    static void assertSurvivorsKept(final QueueMap before, final QueueMap after, final CardPool pool)
    {
        for (int g = 0; g < before.guestQueueCount(); g++)
        {
            for (int i = 0; i < before.routeCount(g); i++)
            {
                final int r = before.route(g, i);
                if (pool.isUsable(QueueMap.cardOf(r)))
                {
                    boolean kept = false;
                    for (int k = 0; k < after.routeCount(g); k++)
                    {
                        kept |= after.route(g, k) == r;
                    }
                    final int gq = g;
                    assertTrue(kept, () -> "survivor route of g" + gq + " moved:\n" + before + "\n" + after);
                }
            }
        }
    }

    /** Guest queues per usable card within one; per card queue of a card within one. */
    static void assertBalanced(final QueueMap m, final CardPool pool, final String ctx)
    {
        assertBalanced(m, pool, () -> ctx);
    }

    static void assertBalanced(final QueueMap m, final CardPool pool, final Supplier<String> ctx)
    {
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        for (int i = 0; i < pool.size(); i++)
        {
            final int c = pool.cardAt(i);
            if (!pool.isUsable(c))
            {
                continue;
            }
            final int[] perQueue = new int[pool.queueCount(c)];
            int n = 0;
            for (int g = 0; g < m.guestQueueCount(); g++)
            {
                assertTrue(m.routeCount(g) <= 1, ctx);
                if (m.routeCount(g) == 1 && QueueMap.cardOf(m.route(g, 0)) == c)
                {
                    n++;
                    perQueue[QueueMap.queueOf(m.route(g, 0))]++;
                }
            }
            min = Math.min(min, n);
            max = Math.max(max, n);
            int qMin = Integer.MAX_VALUE;
            int qMax = Integer.MIN_VALUE;
            for (final int q : perQueue)
            {
                qMin = Math.min(qMin, q);
                qMax = Math.max(qMax, q);
            }
            assertTrue(qMax - qMin <= 1, () -> "card queues of c" + c + " unbalanced: " + ctx.get() + "\n" + m);
        }
        final int lo = min;
        final int hi = max;
        assertTrue(hi - lo <= 1 || lo == Integer.MAX_VALUE, () -> "cards unbalanced (" + lo + ".." + hi + "): " + ctx.get() + "\n" + m);
    }

    /** Repair of a balanced map stays balanced; of an unbalanced one (a card came back) it may not be. */
    static void assertSameBalanceOrBetter(final QueueMap before, final QueueMap after, final CardPool pool, final Supplier<String> ctx)
    {
        boolean newlyUsable = false;
        for (int i = 0; i < pool.size(); i++)
        {
            final int c = pool.cardAt(i);
            newlyUsable |= pool.isUsable(c) && !before.usesCard(c);
        }
        if (!newlyUsable || pool.usableCount() == 0)
        {
            assertBalanced(after, pool, ctx);
        }
    }

    static void assertSprayed(final QueueMap m, final CardPool pool)
    {
        for (int g = 0; g < m.guestQueueCount(); g++)
        {
            assertEquals(pool.usableCount(), m.routeCount(g), m::toString);
            for (int i = 0; i < pool.size(); i++)
            {
                final int c = pool.cardAt(i);
                assertEquals(pool.isUsable(c), m.usesCard(g, c), m::toString);
            }
        }
    }

    /** Each move changes exactly its guest queue, between usable cards, one epoch at a time. */
    static void checkPlan(final RebalancePlan plan, final CardPool pool)
    {
        QueueMap prev = plan.base();
        for (int i = 0; i < plan.size(); i++)
        {
            final QueueMap next = plan.mapAfter(i);
            assertEquals(prev.epoch() + 1, next.epoch());
            assertTrue(pool.isUsable(QueueMap.cardOf(plan.fromRoute(i))) && pool.isUsable(QueueMap.cardOf(plan.toRoute(i))));
            assertTrue(QueueMap.cardOf(plan.fromRoute(i)) != QueueMap.cardOf(plan.toRoute(i)));
            for (int g = 0; g < prev.guestQueueCount(); g++)
            {
                if (g == plan.guestQueue(i))
                {
                    assertEquals(plan.fromRoute(i), prev.route(g, 0));
                    assertEquals(plan.toRoute(i), next.route(g, 0));
                }
                else
                {
                    assertTrue(java.util.Arrays.equals(prev.routes(g), next.routes(g)));
                }
            }
            prev = next;
        }
    }

    /** The fewest moves that balance {@code m}: the excess over optimal targets. */
    static int minimalMoves(final QueueMap m, final CardPool pool, final int g)
    {
        final int n = pool.usableCount();
        if (n == 0 || m.routeCount(0) != 1 && m.routeCount(0) > 0)
        {
            return 0;
        }
        final List<Integer> loads = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++)
        {
            final int c = pool.cardAt(i);
            if (pool.isUsable(c))
            {
                int load = 0;
                for (int q = 0; q < g; q++)
                {
                    load += m.routeCount(q) == 1 && QueueMap.cardOf(m.route(q, 0)) == c ? 1 : 0;
                }
                loads.add(load);
            }
        }
        loads.sort((a, b) -> b - a);
        int moves = 0;
        for (int i = 0; i < n; i++)
        {
            moves += Math.max(0, loads.get(i) - (g / n + (i < g % n ? 1 : 0)));
        }
        return moves;
    }

    static void assertNotSameCard(final QueueMap m, final int g1, final int g2)
    {
        assertTrue(QueueMap.cardOf(m.route(g1, 0)) != QueueMap.cardOf(m.route(g2, 0)), m.toString());
    }
}
