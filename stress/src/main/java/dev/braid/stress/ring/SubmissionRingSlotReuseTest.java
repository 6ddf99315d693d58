package dev.braid.stress.ring;

import dev.braid.mapper.ring.ManyToOneSubmissionRing;
import dev.braid.mapper.ring.SubmissionHandler;
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
public class SubmissionRingSlotReuseTest
{
    private static final SubmissionHandler IGNORE = value -> {};

    private final ManyToOneSubmissionRing ring = new ManyToOneSubmissionRing(2);
    private final Drained drained = new Drained();
    private boolean offered3;

    public SubmissionRingSlotReuseTest()
    {
        ring.offer(token(MAX_ID));
        ring.drain(IGNORE, 1);
        ring.offer(token(1));
        ring.offer(token(2));
    }

    @Actor
    public void card(final III_Result r)
    {
        ring.drain(drained, 1);
        r.r1 = drained.count() == 1 ? drained.id(0) : 0;
    }

    @Actor
    public void front(final III_Result r)
    {
        offered3 = ring.offer(token(3));
        r.r2 = offered3 ? 1 : 0;
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        Rings.drainAll(ring, drained);
        final int errors = drained.errors(1 << 1 | 1 << 2 | (offered3 ? 1 << 3 : 0));
        r.r3 = drained.inOrder(drained.inOrder(errors, 1, 2), 2, 3);
    }
}
