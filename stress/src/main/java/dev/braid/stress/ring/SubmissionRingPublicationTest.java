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
 * A front offers two submissions into a ring of two that is one position in (so they straddle the
 * index wrap) while the card drains once: whatever the card sees, it sees whole and in order.
 * r1 = entries the card drained, r2 = entries the arbiter drained after, r3 = {@link Drained}
 * errors with order.
 */
@JCStressTest
@Description("ManyToOneSubmissionRing: a consumer that sees an entry sees all of its fields, in publication order.")
@Outcome(id = "0, 2, 0", expect = ACCEPTABLE, desc = "Card drained before the first publish.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Card caught the first entry only, whole.")
@Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "Card caught both, whole, in order.")
@Outcome(expect = FORBIDDEN, desc = "A torn, lost, duplicated, invented or reordered entry.")
@State
public class SubmissionRingPublicationTest extends Publication
{
    public SubmissionRingPublicationTest()
    {
        super(RingUnderTest.submission(2));
    }

    @Actor
    public void front()
    {
        offerBoth();
    }

    @Actor
    public void card(final III_Result r)
    {
        drainOnce(r);
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        settle(r);
    }
}
