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
 * A full ring of two: the card drains the oldest entry while a front offers into the slot that
 * drain frees. The front must not overwrite the slot before the card has read it. r1 = id the card
 * read, r2 = 1 if the offer was accepted, r3 = {@link Drained} errors over everything drained.
 */
@JCStressTest
@Description("ManyToOneSubmissionRing: a producer reusing a slot never overwrites an entry the consumer is still reading.")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "Offer came before the slot was freed: refused as full.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Offer reused the freed slot after the card had read it.")
@Outcome(expect = FORBIDDEN, desc = "Card read the next lap's entry or a torn one, or an entry was lost or duplicated.")
@State
public class SubmissionRingSlotReuseTest extends SlotReuse
{
    public SubmissionRingSlotReuseTest()
    {
        super(RingUnderTest.submission(2));
    }

    @Actor
    public void card(final III_Result r)
    {
        drainOldest(r);
    }

    @Actor
    public void front(final III_Result r)
    {
        offerThird(r);
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        settle(r);
    }
}
