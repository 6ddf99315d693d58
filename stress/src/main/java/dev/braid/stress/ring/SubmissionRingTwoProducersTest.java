package dev.braid.stress.ring;

import dev.braid.mapper.ring.ManyToOneSubmissionRing;
import dev.braid.stress.Drained;
import dev.braid.stress.Rings;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static dev.braid.stress.Payload.*;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Two front threads race to claim positions in a ring with room for both. r1 = offers accepted,
 * r2 = entries the card (the arbiter) drained, r3 = {@link Drained} errors.
 */
@JCStressTest
@Description("ManyToOneSubmissionRing: two producers racing on the tail CAS each get their own slot.")
@Outcome(id = "2, 2, 0", expect = ACCEPTABLE, desc = "Both accepted; both came out once, whole.")
@Outcome(expect = FORBIDDEN, desc = "An offer was refused with room left, or an entry was lost, duplicated, torn or invented.")
@State
public class SubmissionRingTwoProducersTest
{
    private final ManyToOneSubmissionRing ring = new ManyToOneSubmissionRing(4);
    private final Drained drained = new Drained();
    private boolean offered1;
    private boolean offered2;

    @Actor
    public void front1()
    {
        offered1 = ring.offer(token(1));
    }

    @Actor
    public void front2()
    {
        offered2 = ring.offer(token(2));
    }

    @Arbiter
    public void card(final III_Result r)
    {
        final int offered = (offered1 ? 1 << 1 : 0) | (offered2 ? 1 << 2 : 0);
        r.r1 = Integer.bitCount(offered);
        r.r2 = Rings.drainAll(ring, drained);
        r.r3 = drained.errors(offered);
    }
}
