package dev.braid.stress.handoff;

import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.stress.Payload;
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
 * Completion: one card already completed slot 0; a second card writes the result and read data
 * into slot 1 (over an older result) with plain stores, then offers (token, status, length) to the
 * front queue's ManyToOneCompletionRing while the front drains once and reads the slot named by
 * each token. r1 = completions the front read whole (entry and slot), r2 = ones it read stale or
 * mixed, r3 = whole by front and arbiter.
 */
@JCStressTest
@Description("Slot hand-off card -> front queue through ManyToOneCompletionRing: the front sees the card's writes.")
@Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "Front drained before the second completion; the first whole.")
@Outcome(id = "2, 0, 2", expect = ACCEPTABLE, desc = "Front caught both, slots whole.")
@Outcome(expect = FORBIDDEN, desc = "Front saw a stale or half-written slot or entry, or a completion was lost or doubled.")
@State
public class CompletionSlotHandoffTest implements CompletionHandler
{
    private final ManyToOneCompletionRing ring = new ManyToOneCompletionRing(4);
    private final BlockSlot[] slots = {new BlockSlot(), new BlockSlot()};
    private int whole;
    private int bad;

    public CompletionSlotHandoffTest()
    {
        slots[0].fillResult(1);
        ring.offer(token(1), status(1), length(1));
        slots[1].fillResult(9);
    }

    @Actor
    public void card2()
    {
        slots[1].fillResult(2);
        ring.offer(token(2), status(2), length(2));
    }

    @Actor
    public void front(final III_Result r)
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

    public void onCompletion(final long token, final int status, final int length)
    {
        final int id = Payload.idOf(token);
        if (Payload.isWhole(token, status, length) && id >= 1 && id <= slots.length && slots[id - 1].resultIs(id))
        {
            whole++;
        }
        else
        {
            bad++;
        }
    }
}
