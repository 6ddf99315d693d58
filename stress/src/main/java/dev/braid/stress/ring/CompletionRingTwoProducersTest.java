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
 * Two card threads race to claim positions in a ring with room for both. r1 = offers accepted,
 * r2 = entries the front (the arbiter) drained, r3 = {@link Drained} errors.
 */
@JCStressTest
@Description("ManyToOneCompletionRing: two producers racing on the tail CAS each get their own slot.")
@Outcome(id = "2, 2, 0", expect = ACCEPTABLE, desc = "Both accepted; both came out once, whole.")
@Outcome(expect = FORBIDDEN, desc = "An offer was refused with room left, or an entry was lost, duplicated, torn or invented.")
@State
public class CompletionRingTwoProducersTest extends ProducerRace
{
    public CompletionRingTwoProducersTest()
    {
        super(RingUnderTest.completion(4), false);
    }

    @Actor
    public void card1()
    {
        offer1();
    }

    @Actor
    public void card2()
    {
        offer2();
    }

    @Arbiter
    public void front(final III_Result r)
    {
        settle(r);
    }
}
