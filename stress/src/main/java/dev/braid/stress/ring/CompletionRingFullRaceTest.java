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
 * A ring of two, one position in and holding one entry (id 3), so exactly one slot is free and it
 * lies past the index wrap. Two card threads race for it: exactly one must win, and the loser must
 * see the ring as full rather than overwrite the pending entry. r1 = offers accepted, r2 = entries
 * drained by the arbiter, r3 = {@link Drained} errors (entry 3 must come out first).
 */
@JCStressTest
@Description("ManyToOneCompletionRing of capacity 2 across the wrap: two producers race for the last free slot.")
@Outcome(id = "1, 2, 0", expect = ACCEPTABLE, desc = "One producer won the slot, the other saw the ring full.")
@Outcome(expect = FORBIDDEN, desc = "Both or neither won, or an entry was lost, overwritten, torn or reordered.")
@State
public class CompletionRingFullRaceTest extends ProducerRace
{
    public CompletionRingFullRaceTest()
    {
        super(RingUnderTest.completion(2), true);
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
