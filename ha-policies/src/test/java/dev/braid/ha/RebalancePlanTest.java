package dev.braid.ha;

import dev.braid.mapper.QueueMap;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RebalancePlanTest
{
    @Test
    void emptyPlanEndsAtItsBase()
    {
        final QueueMap base = QueueMap.builder(2).add(0, 1, 0).add(1, 1, 1).build(7);
        final RebalancePlan plan = RebalancePlan.empty(base);
        assertTrue(plan.isEmpty());
        assertSame(base, plan.finalMap());
    }

    @Test
    void movesApplyInOrderWithGrowingEpochs()
    {
        final QueueMap base = QueueMap.builder(3).add(0, 1, 0).add(1, 1, 1).add(2, 2, 0).add(2, 1, 2).build(7);
        final RebalancePlan plan = new RebalancePlan(base,
            new int[]{1, 2},
            new int[]{QueueMap.encodeRoute(1, 1), QueueMap.encodeRoute(1, 2)},
            new int[]{QueueMap.encodeRoute(3, 0), QueueMap.encodeRoute(3, 1)});
        assertEquals(2, plan.size());
        assertEquals(8, plan.mapAfter(0).epoch());
        assertEquals(9, plan.finalMap().epoch());
        assertEquals(QueueMap.encodeRoute(3, 0), plan.mapAfter(0).route(1, 0));
        assertEquals(QueueMap.encodeRoute(1, 2), plan.mapAfter(0).route(2, 1));
        // A sprayed guest queue keeps its other routes and their order.
        assertEquals(QueueMap.encodeRoute(2, 0), plan.finalMap().route(2, 0));
        assertEquals(QueueMap.encodeRoute(3, 1), plan.finalMap().route(2, 1));
        assertEquals(QueueMap.encodeRoute(1, 0), plan.finalMap().route(0, 0));
        assertEquals("RebalancePlan{base=7, moves=[g1: c1q1->c3q0, g2: c1q2->c3q1]}", plan.toString());
    }

    @Test
    void aMoveFromARouteTheQueueDoesNotHaveIsRejected()
    {
        final QueueMap base = QueueMap.builder(1).add(0, 1, 0).build(1);
        assertThrows(IllegalArgumentException.class, () -> new RebalancePlan(base,
            new int[]{0}, new int[]{QueueMap.encodeRoute(2, 0)}, new int[]{QueueMap.encodeRoute(3, 0)}));
    }
}
