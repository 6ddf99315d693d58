package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.SelectorKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.*;

class AggregationTest
{
    @ParameterizedTest
    @EnumSource(SelectorKind.class)
    void activeActiveYieldsAMapPolicyAndADispatchPolicyOfOneMode(final SelectorKind selector)
    {
        final Aggregation aggregation = Aggregation.activeActive(selector);
        final DispatchMode expected = selector == SelectorKind.QUEUE_AFFINE ?
            DispatchMode.QUEUE_AFFINE : DispatchMode.REQUEST_SPRAY;
        assertEquals(expected, aggregation.mode());
        assertEquals(expected, aggregation.dispatchPolicy().mode());
        assertEquals(selector, aggregation.dispatchPolicy().selectorKind());
        final MapPolicy policy = aggregation.newMapPolicy(3);
        assertEquals(expected, ((ActiveActivePolicy)policy).mode());
        assertEquals(3, policy.guestQueueCount());
        assertFalse(aggregation.isActivePassive());
        assertNull(aggregation.failback());
    }

    @Test
    void activePassiveIsQueueAffine()
    {
        final Failback failback = Failback.delayed(2_000_000_000L);
        final Aggregation aggregation = Aggregation.activePassive(failback);
        assertTrue(aggregation.isActivePassive());
        assertEquals(DispatchPolicy.queueAffine(), aggregation.dispatchPolicy());
        final MapPolicy policy = aggregation.newMapPolicy(2);
        assertSame(failback, ((ActivePassivePolicy)policy).failbackMode());
        assertEquals("ap:DELAYED(2000000000ns)", aggregation.toString());
    }

    @Test
    void eachMapPolicyIsNew()
    {
        // Map policies keep state (a failback request): two devices must never share one.
        final Aggregation aggregation = Aggregation.activePassive(Failback.manual());
        assertNotSame(aggregation.newMapPolicy(1), aggregation.newMapPolicy(1));
    }

    @Test
    void refusesMissingParts()
    {
        assertEquals("active-active needs a selector: null",
            assertThrows(IllegalArgumentException.class, () -> Aggregation.activeActive(null)).getMessage());
        assertEquals("active-passive needs a failback mode: null",
            assertThrows(IllegalArgumentException.class, () -> Aggregation.activePassive(null)).getMessage());
    }

    @Test
    void equalityFollowsWhatItSays()
    {
        assertEquals(Aggregation.activeActive(SelectorKind.FLOW_HASH), Aggregation.activeActive(SelectorKind.FLOW_HASH));
        assertNotEquals(Aggregation.activeActive(SelectorKind.FLOW_HASH), Aggregation.activeActive(SelectorKind.ROUND_ROBIN));
        assertEquals(Aggregation.activePassive(Failback.delayed(5)), Aggregation.activePassive(Failback.delayed(5)));
        assertNotEquals(Aggregation.activePassive(Failback.delayed(5)), Aggregation.activePassive(Failback.delayed(6)));
        assertEquals("aa:least-outstanding", Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING).toString());
    }
}
