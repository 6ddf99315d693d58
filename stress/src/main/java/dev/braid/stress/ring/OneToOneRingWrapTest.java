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
 * A ring of two slots, already one position in, so three offers cross the index wrap and may reuse
 * a slot the card has just freed. r1 = offers accepted, r2 = values drained (card then arbiter),
 * r3 = {@link Drained} errors with order.
 */
@JCStressTest
@Description("OneToOneSubmissionRing of capacity 2 across the wrap: the front offers three values, the card drains once.")
@Outcome(id = "2, 2, 0", expect = ACCEPTABLE, desc = "Ring full for the third offer; two came out whole, once, in order.")
@Outcome(id = "3, 3, 0", expect = ACCEPTABLE, desc = "The card freed a slot in time and it was reused; all came out.")
@Outcome(expect = FORBIDDEN, desc = "Lost, duplicated, torn, invented or reordered value.")
@State
public class OneToOneRingWrapTest
{
    private static final SubmissionHandler IGNORE = value -> {};

    private final OneToOneSubmissionRing ring = new OneToOneSubmissionRing(2);
    private final Drained drained = new Drained();
    private int offeredMask;

    public OneToOneRingWrapTest()
    {
        ring.offer(token(MAX_ID));
        ring.drain(IGNORE, 1);
    }

    @Actor
    public void front()
    {
        int mask = ring.offer(token(1)) ? 1 << 1 : 0;
        mask |= ring.offer(token(2)) ? 1 << 2 : 0;
        mask |= ring.offer(token(3)) ? 1 << 3 : 0;
        offeredMask = mask;
    }

    @Actor
    public void card()
    {
        ring.drain(drained, 3);
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        Rings.drainAll(ring, drained);
        r.r1 = Integer.bitCount(offeredMask);
        r.r2 = drained.count();
        r.r3 = drained.inOrder(drained.inOrder(drained.errors(offeredMask), 1, 2), 2, 3);
    }
}
