package dev.braid.stress.ring;

import dev.braid.mapper.ring.OneToOneSubmissionRing;
import dev.braid.stress.Drained;
import dev.braid.stress.Rings;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static dev.braid.stress.Payload.token;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** r1 = values the card drained while the front offered, r2 = values the arbiter drained after, r3 = {@link Drained} errors (with order). */
@JCStressTest
@Description("OneToOneSubmissionRing: the front offers two values while the card drains once.")
@Outcome(id = "0, 2, 0", expect = ACCEPTABLE, desc = "Card drained before the first publish.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Card caught the first value only.")
@Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "Card caught both.")
@Outcome(expect = FORBIDDEN, desc = "A value was lost, duplicated, torn, invented or reordered.")
@State
public class OneToOneRingTest
{
    private final OneToOneSubmissionRing ring = new OneToOneSubmissionRing(4);
    private final Drained drained = new Drained();
    private int offeredMask;

    @Actor
    public void front()
    {
        int mask = ring.offer(token(1)) ? 1 << 1 : 0;
        mask |= ring.offer(token(2)) ? 1 << 2 : 0;
        offeredMask = mask;
    }

    @Actor
    public void card(final III_Result r)
    {
        r.r1 = ring.drain(drained, 4);
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        r.r2 = Rings.drainAll(ring, drained);
        r.r3 = drained.inOrder(drained.errors(offeredMask), 1, 2);
    }
}
