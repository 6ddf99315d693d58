package dev.braid.stress.handoff;

import dev.braid.mapper.ring.ManyToOneSubmissionRing;
import dev.braid.mapper.ring.SubmissionHandler;
import dev.braid.stress.Rings;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Queue-affine submission: the front queue fills a slot that still holds an older request (id 9)
 * with plain stores, then offers the slot index to the card's ManyToOneSubmissionRing; the card
 * drains once and reads the slot. r1 = what the card read (0 nothing drained, 1 the new request
 * whole, 2 stale or mixed), r2 = how many drains (card and arbiter) read the new request whole.
 */
@JCStressTest
@Description("Slot hand-off front queue -> card through ManyToOneSubmissionRing: the card sees every field the front wrote.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "Card drained before the offer; the request came out later, whole.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Card drained the index and saw the whole request.")
@Outcome(expect = FORBIDDEN, desc = "Card saw a stale or half-written slot, or the request was lost or doubled.")
@State
public class SubmissionSlotHandoffTest implements SubmissionHandler
{
    private final ManyToOneSubmissionRing ring = new ManyToOneSubmissionRing(2);
    private final BlockSlot[] slots = {new BlockSlot(), new BlockSlot()};
    private int seen;
    private int whole;

    public SubmissionSlotHandoffTest()
    {
        slots[1].fillRequest(9);
    }

    @Actor
    public void front()
    {
        slots[1].fillRequest(1);
        ring.offer(1);
    }

    @Actor
    public void card(final II_Result r)
    {
        ring.drain(this, 1);
        r.r1 = seen;
    }

    @Arbiter
    public void arbiter(final II_Result r)
    {
        Rings.drainAll(ring, this);
        r.r2 = whole;
    }

    public void onSubmission(final long value)
    {
        final boolean ok = slots[(int)value].requestIs(1);
        seen = ok ? 1 : 2;
        whole += ok ? 1 : 0;
    }
}
