package dev.braid.stress.ring;

import dev.braid.mapper.ring.OneToOneSubmissionRing;
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

import static dev.braid.stress.Payload.MAX_ID;
import static dev.braid.stress.Payload.token;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A full ring of two: the card drains the oldest value while the front offers into the slot that
 * drain frees; the head is released only after the value was read. r1 = id the card read,
 * r2 = 1 if the offer was accepted, r3 = {@link Drained} errors with order.
 */
@JCStressTest
@Description("OneToOneSubmissionRing: the producer never overwrites a slot the consumer is still reading.")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "Offer came before the head moved: refused as full.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Offer reused the slot after the card had read it.")
@Outcome(expect = FORBIDDEN, desc = "Card read the next lap's value, or a value was lost, duplicated or reordered.")
@State
public class OneToOneRingSlotReuseTest
{
    private static final SubmissionHandler IGNORE = value -> {};

    private final OneToOneSubmissionRing ring = new OneToOneSubmissionRing(2);
    private final Drained drained = new Drained();
    private boolean offered3;

    public OneToOneRingSlotReuseTest()
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
