package dev.braid.stress.map;

import dev.braid.mapper.QueueMap;
import dev.braid.mapper.QueueMapPublisher;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The policy thread builds a new map and publishes it while a front queue reads current() twice.
 * The build happens inside the actor, so its stores race with the publication. r1, r2 = the epoch
 * of each map read if its routes match that epoch, else -1.
 */
@JCStressTest
@Description("QueueMapPublisher: a reader sees the old or the new map whole, and never goes back to the old one.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Both reads before the publish.")
@Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "Publish landed between the reads.")
@Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "Both reads after the publish.")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "The reader went back to the old epoch.")
@Outcome(expect = FORBIDDEN, desc = "A partly built map (routes do not match its epoch).")
@State
public class QueueMapSwapTest
{
    private final QueueMapPublisher publisher = new QueueMapPublisher(MapShape.build(1));

    @Actor
    public void policy()
    {
        publisher.publish(MapShape.build(2));
    }

    @Actor
    public void front(final II_Result r)
    {
        final QueueMap first = publisher.current();
        r.r1 = MapShape.check(first);
        final QueueMap second = publisher.current();
        r.r2 = MapShape.check(second);
    }
}
