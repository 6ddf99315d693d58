package dev.braid.stress.ring;

import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
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
 * A card offers two completions into a ring of two that is one position in (so they straddle the
 * index wrap) while the front drains once: whatever the front sees, it sees whole and in order.
 * r1 = entries the front drained, r2 = entries the arbiter drained after, r3 = {@link Drained}
 * errors with order.
 */
@JCStressTest
@Description("ManyToOneCompletionRing: a consumer that sees an entry sees all of its fields, in publication order.")
@Outcome(id = "0, 2, 0", expect = ACCEPTABLE, desc = "Front drained before the first publish.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Front caught the first entry only, whole.")
@Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "Front caught both, whole, in order.")
@Outcome(expect = FORBIDDEN, desc = "A torn, lost, duplicated, invented or reordered entry.")
@State
public class CompletionRingPublicationTest
{
    private static final CompletionHandler IGNORE = (token, status, length) -> {};

    private final ManyToOneCompletionRing ring = new ManyToOneCompletionRing(2);
    private final Drained drained = new Drained();
    private int offeredMask;

    public CompletionRingPublicationTest()
    {
        ring.offer(token(MAX_ID), status(MAX_ID), length(MAX_ID));
        ring.drain(IGNORE, 1);
    }

    @Actor
    public void card()
    {
        int mask = ring.offer(token(1), status(1), length(1)) ? 1 << 1 : 0;
        mask |= ring.offer(token(2), status(2), length(2)) ? 1 << 2 : 0;
        offeredMask = mask;
    }

    @Actor
    public void front(final III_Result r)
    {
        r.r1 = ring.drain(drained, 2);
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        r.r2 = Rings.drainAll(ring, drained);
        r.r3 = drained.inOrder(drained.errors(offeredMask), 1, 2);
    }
}
