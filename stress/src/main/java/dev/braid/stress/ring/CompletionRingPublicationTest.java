package dev.braid.stress.ring;

import dev.braid.stress.Drained;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

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
public class CompletionRingPublicationTest extends Publication
{
    public CompletionRingPublicationTest()
    {
        super(RingUnderTest.completion(2));
    }

    @Actor
    public void card()
    {
        offerBoth();
    }

    @Actor
    public void front(final III_Result r)
    {
        drainOnce(r);
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        settle(r);
    }
}
