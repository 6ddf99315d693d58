package dev.braid.stress.ring;

import dev.braid.stress.Drained;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * A producer offers two entries into a ring of two that is one position in (so they straddle the
 * index wrap) while the consumer drains once: whatever it sees, it sees whole and in order.
 * r1 = entries the consumer drained, r2 = entries the arbiter drained after, r3 = {@link Drained}
 * errors with order.
 */
abstract class Publication
{
    private final RingUnderTest ring;
    private final Drained drained = new Drained();
    private int offeredMask;

    Publication(final RingUnderTest ring)
    {
        this.ring = ring.oneIn();
    }

    final void offerBoth()
    {
        int mask = ring.offer(1) ? 1 << 1 : 0;
        mask |= ring.offer(2) ? 1 << 2 : 0;
        offeredMask = mask;
    }

    final void drainOnce(final III_Result r)
    {
        r.r1 = ring.drain(drained, 2);
    }

    final void settle(final III_Result r)
    {
        r.r2 = ring.drainAll(drained);
        r.r3 = drained.inOrder(drained.errors(offeredMask), 1, 2);
    }
}
