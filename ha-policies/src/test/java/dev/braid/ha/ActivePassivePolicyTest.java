package dev.braid.ha;

import dev.braid.mapper.QueueMap;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivePassivePolicyTest
{
    static final int G = 6;

    /** Cards 5 (2 queues), 3 (4 queues), 9 (8 queues), in that priority order. */
    static CardPool pool()
    {
        return new CardPool(16).add(5, 2, 0).add(3, 4, 0).add(9, 8, 0);
    }

    static QueueMap empty()
    {
        return QueueMap.builder(G).build(0);
    }

    /** The primary (card 5) fails at time 0: the first repair puts every queue on the standby, card 3. */
    static QueueMap primaryDown(final ActivePassivePolicy p, final CardPool pool)
    {
        pool.setHealth(5, HealthState.DOWN, 0);
        final QueueMap m = p.repair(empty(), pool, 0);
        assertAllOn(m, 3, 4);
        return m;
    }

    static void assertAllOn(final QueueMap map, final int card, final int queueCount)
    {
        for (int g = 0; g < G; g++)
        {
            assertEquals(1, map.routeCount(g), map.toString());
            assertEquals(QueueMap.encodeRoute(card, g % queueCount), map.route(g, 0), map.toString());
        }
    }

    static QueueMap execute(final RebalancePlan plan)
    {
        for (int i = 0; i < plan.size(); i++)
        {
            assertEquals(plan.base().epoch() + i + 1, plan.mapAfter(i).epoch());
        }
        return plan.finalMap();
    }

    @Test
    void allGuestQueuesOnHighestPriorityUsableCardAndFailoverInOrder()
    {
        final CardPool pool = pool();
        final ActivePassivePolicy p = new ActivePassivePolicy(G, Failback.immediate());
        QueueMap m = p.repair(empty(), pool, 0);
        assertEquals(1, m.epoch());
        assertAllOn(m, 5, 2);
        assertSame(m, p.repair(m, pool, 0), "no change keeps the same map and epoch");

        pool.setHealth(5, HealthState.SUSPECT, 1);
        assertSame(m, p.repair(m, pool, 1), "SUSPECT is still usable");

        pool.setHealth(5, HealthState.DOWN, 2);
        m = p.repair(m, pool, 2);
        assertEquals(2, m.epoch());
        assertAllOn(m, 3, 4);

        pool.setHealth(3, HealthState.DOWN, 3);
        m = p.repair(m, pool, 3);
        assertAllOn(m, 9, 8);

        pool.setHealth(9, HealthState.DOWN, 4);
        m = p.repair(m, pool, 4);
        for (int g = 0; g < G; g++)
        {
            assertEquals(0, m.routeCount(g), "all down: no route");
        }
        pool.setHealth(3, HealthState.PROBING, 5);
        assertSame(m, p.repair(m, pool, 5), "PROBING is not yet usable");
        pool.setHealth(3, HealthState.UP, 6);
        m = p.repair(m, pool, 6);
        assertAllOn(m, 3, 4);
    }

    @Test
    void immediateFailbackIsAPlanOfDrainedMoves()
    {
        final CardPool pool = pool();
        final ActivePassivePolicy p = new ActivePassivePolicy(G, Failback.immediate());
        QueueMap m = primaryDown(p, pool);
        assertTrue(p.plan(m, pool, 0).isEmpty());

        pool.setHealth(5, HealthState.SUSPECT, 1);
        assertSame(m, p.repair(m, pool, 1), "a recovered card never takes queues in repair");
        assertTrue(p.plan(m, pool, 1).isEmpty(), "no failback to a SUSPECT card");

        pool.setHealth(5, HealthState.UP, 2);
        final RebalancePlan plan = p.plan(m, pool, 2);
        System.out.println(plan);
        assertEquals(G, plan.size());
        for (int i = 0; i < G; i++)
        {
            assertEquals(i, plan.guestQueue(i));
            assertEquals(QueueMap.encodeRoute(3, i % 4), plan.fromRoute(i));
            assertEquals(QueueMap.encodeRoute(5, i % 2), plan.toRoute(i));
            // After move i, queues 0..i are on the primary, the rest still on the standby.
            for (int g = 0; g < G; g++)
            {
                assertEquals(g <= i ? 5 : 3, QueueMap.cardOf(plan.mapAfter(i).route(g, 0)));
            }
        }
        m = execute(plan);
        assertAllOn(m, 5, 2);
        assertTrue(p.plan(m, pool, 3).isEmpty());
    }

    @Test
    void manualFailbackWaitsForTheOperatorAndIsOneShot()
    {
        final CardPool pool = pool();
        final ActivePassivePolicy p = new ActivePassivePolicy(G, Failback.manual());
        QueueMap m = primaryDown(p, pool);

        p.failback();
        assertTrue(p.plan(m, pool, 1).isEmpty(), "primary still down: the request lapses");
        pool.setHealth(5, HealthState.UP, 2);
        assertTrue(p.plan(m, pool, 1_000_000_000L).isEmpty(), "manual: stays on the standby");
        assertEquals(Long.MAX_VALUE, p.reevaluateAtNanos(m, pool, 3));

        p.failback();
        m = execute(p.plan(m, pool, 4));
        assertAllOn(m, 5, 2);
    }

    @Test
    void delayedFailbackNeedsContinuousUp()
    {
        final CardPool pool = pool();
        final long delay = 1000;
        final ActivePassivePolicy p = new ActivePassivePolicy(G, Failback.delayed(delay));
        QueueMap m = primaryDown(p, pool);

        pool.setHealth(5, HealthState.UP, 100);
        assertEquals(1100, p.reevaluateAtNanos(m, pool, 100));
        assertTrue(p.plan(m, pool, 1099).isEmpty());

        pool.setHealth(5, HealthState.SUSPECT, 500); // continuity broken
        pool.setHealth(5, HealthState.UP, 600);
        assertEquals(1600, p.reevaluateAtNanos(m, pool, 600));
        assertTrue(p.plan(m, pool, 1100).isEmpty());
        assertTrue(p.plan(m, pool, 1599).isEmpty());
        m = execute(p.plan(m, pool, 1600));
        assertAllOn(m, 5, 2);
        assertEquals(Long.MAX_VALUE, p.reevaluateAtNanos(m, pool, 1600));
    }

    @Test
    void delayedFailbackGoesToTheHighestEligibleCard()
    {
        final CardPool pool = pool();
        final ActivePassivePolicy p = new ActivePassivePolicy(G, Failback.delayed(1000));
        pool.setHealth(5, HealthState.DOWN, 0);
        pool.setHealth(3, HealthState.DOWN, 0);
        QueueMap m = p.repair(empty(), pool, 0);
        assertAllOn(m, 9, 8);
        pool.setHealth(3, HealthState.UP, 0);
        pool.setHealth(5, HealthState.UP, 500);
        m = execute(p.plan(m, pool, 1000));
        assertAllOn(m, 3, 4);
        m = execute(p.plan(m, pool, 1500));
        assertAllOn(m, 5, 2);
    }

    @Test
    void abortedFailbackIsConsolidatedAndRepairKeepsUsableRoutes()
    {
        final CardPool pool = pool();
        final ActivePassivePolicy p = new ActivePassivePolicy(G, Failback.manual());
        final QueueMap standby = primaryDown(p, pool);
        pool.setHealth(5, HealthState.UP, 1);
        p.failback();
        final RebalancePlan plan = p.plan(standby, pool, 2);
        final QueueMap half = plan.mapAfter(2); // aborted after three moves

        // Manual mode, no new request: the half-done failback is still finished.
        final QueueMap done = execute(p.plan(half, pool, 3));
        assertAllOn(done, 5, 2);

        // The standby dies mid-failback: only its queues move, onto the primary.
        pool.setHealth(3, HealthState.DOWN, 4);
        final QueueMap repaired = p.repair(half, pool, 4);
        assertAllOn(repaired, 5, 2);
        assertEquals(half.epoch() + 1, repaired.epoch());
    }

    @Test
    void removingCardIsNotUsable()
    {
        final CardPool pool = pool();
        final ActivePassivePolicy p = new ActivePassivePolicy(G, Failback.immediate());
        QueueMap m = p.repair(empty(), pool, 0);
        pool.markRemoving(5);
        m = p.repair(m, pool, 1);
        assertAllOn(m, 3, 4);
        assertTrue(p.plan(m, pool, 2).isEmpty(), "no failback to a REMOVING card");
        pool.remove(5);
        assertEquals(3, pool.cardAt(0));
    }
}
