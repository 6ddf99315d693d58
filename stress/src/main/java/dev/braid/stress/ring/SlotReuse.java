package dev.braid.stress.ring;

import dev.braid.stress.Drained;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * A full ring of two (entries 1 and 2, across the wrap): the consumer drains the oldest entry while
 * a producer offers entry 3 into the slot that drain frees. r1 = id the consumer read, r2 = 1 if
 * the offer was accepted, r3 = {@link Drained} errors over everything drained.
 */
abstract class SlotReuse
{
    private final RingUnderTest ring;
    private final Drained drained = new Drained();
    private boolean offered3;

    SlotReuse(final RingUnderTest ring)
    {
        this.ring = ring.oneIn();
        ring.offer(1);
        ring.offer(2);
    }

    final void drainOldest(final III_Result r)
    {
        ring.drain(drained, 1);
        r.r1 = drained.count() == 1 ? drained.id(0) : 0;
    }

    final void offerThird(final III_Result r)
    {
        offered3 = ring.offer(3);
        r.r2 = offered3 ? 1 : 0;
    }

    final void settle(final III_Result r)
    {
        ring.drainAll(drained);
        final int errors = drained.errors(1 << 1 | 1 << 2 | (offered3 ? 1 << 3 : 0));
        r.r3 = drained.inOrder(drained.inOrder(errors, 1, 2), 2, 3);
    }
}
