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
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Request spray: one front queue already submitted slot 0 to a card's ManyToOneSubmissionRing;
 * a second front queue fills slot 1 (over an older request) and offers its index while the card
 * drains once. r1 = slots the card read whole, r2 = slots the card read stale or mixed, r3 = slots
 * read whole by card and arbiter.
 */
@JCStressTest
@Description("Slot hand-off front queue -> card through ManyToOneSubmissionRing shared with another front queue.")
@Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "Card drained before the second offer; the first request whole.")
@Outcome(id = "2, 0, 2", expect = ACCEPTABLE, desc = "Card caught both, whole.")
@Outcome(expect = FORBIDDEN, desc = "Card saw a stale or half-written slot, or a request was lost or doubled.")
@State
public class SprayedSlotHandoffTest implements SubmissionHandler
{
    private final ManyToOneSubmissionRing ring = new ManyToOneSubmissionRing(4);
    private final BlockSlot[] slots = {new BlockSlot(), new BlockSlot()};
    private int whole;
    private int bad;

    public SprayedSlotHandoffTest()
    {
        slots[0].fillRequest(1);
        ring.offer(0);
        slots[1].fillRequest(9);
    }

    @Actor
    public void front2()
    {
        slots[1].fillRequest(2);
        ring.offer(1);
    }

    @Actor
    public void card(final III_Result r)
    {
        ring.drain(this, 2);
        r.r1 = whole;
        r.r2 = bad;
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        Rings.drainAll(ring, this);
        r.r3 = whole;
    }

    public void onSubmission(final long value)
    {
        final int index = (int)value;
        if (slots[index].requestIs(index + 1))
        {
            whole++;
        }
        else
        {
            bad++;
        }
    }
}
