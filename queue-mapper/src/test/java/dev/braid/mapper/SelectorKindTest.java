package dev.braid.mapper;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SelectorKindTest
{
    @Test
    void parsesExternalNames()
    {
        for (final SelectorKind kind : SelectorKind.values())
        {
            assertSame(kind, SelectorKind.parse(kind.externalName()));
            assertSame(kind, SelectorKind.parse(kind.name()));
        }
        assertSame(SelectorKind.LEAST_OUTSTANDING, SelectorKind.parse(" Least-Outstanding "));
    }

    @Test
    void unknownNameGivesOneLineError()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> SelectorKind.parse("fastest"));
        assertEquals("unknown selector 'fastest' (valid: queue-affine, round-robin, least-outstanding, service-time, flow-hash)",
            ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SelectorKind.parse(null));
    }

    @Test
    void factoryBuildsMatchingSelectors()
    {
        assertInstanceOf(QueueAffineSelector.class, SelectorKind.QUEUE_AFFINE.newSelector(2, 2, 0));
        assertInstanceOf(RoundRobinSelector.class, SelectorKind.ROUND_ROBIN.newSelector(2, 2, 0));
        assertInstanceOf(LeastOutstandingSelector.class, SelectorKind.LEAST_OUTSTANDING.newSelector(2, 2, 0));
        assertInstanceOf(ServiceTimeSelector.class, SelectorKind.SERVICE_TIME.newSelector(2, 2, 0));
        assertInstanceOf(FlowHashSelector.class, SelectorKind.FLOW_HASH.newSelector(2, 2, 0));
        // Stateful selectors are per front queue: never shared.
        assertNotSame(SelectorKind.ROUND_ROBIN.newSelector(2, 2, 0), SelectorKind.ROUND_ROBIN.newSelector(2, 2, 0));
    }

    @Test
    void dispatchPolicies()
    {
        assertEquals(DispatchPolicy.queueAffine(), DispatchPolicy.defaultPolicy());
        assertTrue(DispatchPolicy.queueAffine().preservesQueueOrder());
        assertEquals(DispatchMode.QUEUE_AFFINE, DispatchPolicy.parse("queue-affine").mode());

        final DispatchPolicy spray = DispatchPolicy.parse("spray:least-outstanding");
        assertEquals(DispatchMode.REQUEST_SPRAY, spray.mode());
        assertEquals(SelectorKind.LEAST_OUTSTANDING, spray.selectorKind());
        assertFalse(spray.preservesQueueOrder());
        assertFalse(spray.preservesFlowOrder());
        assertEquals("spray:least-outstanding", spray.toString());
        assertEquals(spray, DispatchPolicy.parse(spray.toString()));
        assertTrue(DispatchPolicy.requestSpray(SelectorKind.FLOW_HASH).preservesFlowOrder());
        assertInstanceOf(LeastOutstandingSelector.class, spray.newSelector(2, 2, 0));

        assertThrows(IllegalArgumentException.class, () -> DispatchPolicy.requestSpray(SelectorKind.QUEUE_AFFINE));
        assertThrows(IllegalArgumentException.class, () -> DispatchPolicy.parse("spray:nope"));
        assertThrows(IllegalArgumentException.class, () -> DispatchPolicy.parse("bond"));
    }
}
