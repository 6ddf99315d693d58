package dev.braid.stress.ring;

import dev.braid.stress.Drained;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * Two producers each offer one entry (ids 1 and 2); the arbiter is the consumer. With a pending
 * entry (id 3) in a ring of two that is one position in, exactly one slot is free and it lies past
 * the index wrap: one producer must win, the loser must see the ring full, and 3 comes out first.
 * r1 = offers accepted, r2 = entries the arbiter drained, r3 = {@link Drained} errors.
 * jcstress reads actors from the test class only, so each test declares its own and calls these.
 */
abstract class ProducerRace
{
    private static final int PENDING = 3;

    private final RingUnderTest ring;
    private final boolean pending;
    private final Drained drained = new Drained();
    private boolean offered1;
    private boolean offered2;

    ProducerRace(final RingUnderTest ring, final boolean pending)
    {
        this.ring = ring;
        this.pending = pending;
        if (pending)
        {
            ring.oneIn().offer(PENDING);
        }
    }

    final void offer1()
    {
        offered1 = ring.offer(1);
    }

    final void offer2()
    {
        offered2 = ring.offer(2);
    }

    final void settle(final III_Result r)
    {
        final int offered = (offered1 ? 1 << 1 : 0) | (offered2 ? 1 << 2 : 0);
        r.r1 = Integer.bitCount(offered);
        r.r2 = ring.drainAll(drained);
        r.r3 = pending
            ? drained.inOrder(drained.inOrder(drained.errors(offered | 1 << PENDING), PENDING, 1), PENDING, 2)
            : drained.errors(offered);
    }
}
