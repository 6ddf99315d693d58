package dev.braid.stress.map;

import dev.braid.mapper.QueueMapPublisher;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Two publishes in a row (epochs 2 then 3) against three reads by one front queue. r1..r3 = the
 * epoch of each map read if whole, else -1. Every non-decreasing sequence is fine.
 */
@JCStressTest
@Description("QueueMapPublisher: the epochs one reader sees never go backwards, across two swaps.")
@Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "All reads before the swaps.")
@Outcome(id = "1, 1, 2", expect = ACCEPTABLE, desc = "Non-decreasing.")
@Outcome(id = "1, 1, 3", expect = ACCEPTABLE, desc = "Non-decreasing; epoch 2 was never seen.")
@Outcome(id = "1, 2, 2", expect = ACCEPTABLE, desc = "Non-decreasing.")
@Outcome(id = "1, 2, 3", expect = ACCEPTABLE, desc = "Each read saw the next epoch.")
@Outcome(id = "1, 3, 3", expect = ACCEPTABLE, desc = "Non-decreasing; epoch 2 was never seen.")
@Outcome(id = "2, 2, 2", expect = ACCEPTABLE, desc = "Non-decreasing.")
@Outcome(id = "2, 2, 3", expect = ACCEPTABLE, desc = "Non-decreasing.")
@Outcome(id = "2, 3, 3", expect = ACCEPTABLE, desc = "Non-decreasing.")
@Outcome(id = "3, 3, 3", expect = ACCEPTABLE, desc = "All reads after both swaps.")
@Outcome(expect = FORBIDDEN, desc = "An epoch went backwards, or a map was partly built.")
@State
public class QueueMapEpochOrderTest
{
    private final QueueMapPublisher publisher = new QueueMapPublisher(MapShape.build(1));

    @Actor
    public void policy()
    {
        publisher.publish(MapShape.build(2));
        publisher.publish(MapShape.build(3));
    }

    @Actor
    public void front(final III_Result r)
    {
        r.r1 = MapShape.check(publisher.current());
        r.r2 = MapShape.check(publisher.current());
        r.r3 = MapShape.check(publisher.current());
    }
}
