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
 * A ring of two, one position in and holding one entry (id 3), so exactly one slot is free and it
 * lies past the index wrap. Two front threads race for it: exactly one must win, and the loser must
 * see the ring as full rather than overwrite the pending entry. r1 = offers accepted, r2 = entries
 * drained by the arbiter, r3 = {@link Drained} errors (entry 3 must come out first).
 */
@JCStressTest
@Description("ManyToOneSubmissionRing of capacity 2 across the wrap: two producers race for the last free slot.")
@Outcome(id = "1, 2, 0", expect = ACCEPTABLE, desc = "One producer won the slot, the other saw the ring full.")
@Outcome(expect = FORBIDDEN, desc = "Both or neither won, or an entry was lost, overwritten, torn or reordered.")
@State
public class SubmissionRingFullRaceTest
{
    private static final SubmissionHandler IGNORE = value -> {};

    private final ManyToOneSubmissionRing ring = new ManyToOneSubmissionRing(2);
    private final Drained drained = new Drained();
    private boolean offered1;
    private boolean offered2;

    public SubmissionRingFullRaceTest()
    {
        ring.offer(token(MAX_ID));
        ring.drain(IGNORE, 1);
        ring.offer(token(3));
    }

    @Actor
    public void front1()
    {
        offered1 = ring.offer(token(1));
    }

    @Actor
    public void front2()
    {
        offered2 = ring.offer(token(2));
    }

    @Arbiter
    public void card(final III_Result r)
    {
        final int offered = (offered1 ? 1 << 1 : 0) | (offered2 ? 1 << 2 : 0);
        r.r1 = Integer.bitCount(offered);
        r.r2 = Rings.drainAll(ring, drained);
        r.r3 = drained.inOrder(drained.inOrder(drained.errors(offered | 1 << 3), 3, 1), 3, 2);
    }
}
