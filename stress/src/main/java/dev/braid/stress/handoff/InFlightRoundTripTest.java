package dev.braid.stress.handoff;

import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.mapper.ring.ManyToOneSubmissionRing;
import dev.braid.mapper.ring.SubmissionHandler;
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
 * One in-flight entry makes the round trip: the front queue fills it (over a finished older
 * request) and submits its head through a ManyToOneSubmissionRing, then drains its completion ring
 * once; the card drains once, reads the entry, writes its result into it and completes through a
 * ManyToOneCompletionRing. r1 = what the card read, r2 = what the front read (0 nothing, 1 whole,
 * 2 stale or mixed), r3 = entries the arbiter still found in either ring.
 */
@JCStressTest
@Description("In-flight state front queue -> card -> front queue through a submission and a completion ring.")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "Card drained before the submit; the submission is still queued.")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "Card saw the whole entry; the front drained before the completion.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Round trip done: each side saw the other's writes.")
@Outcome(expect = FORBIDDEN, desc = "A side saw a stale or half-written entry, or the request was lost or doubled.")
@State
public class InFlightRoundTripTest
{
    private static final int ID = 1;

    private final ManyToOneSubmissionRing submissions = new ManyToOneSubmissionRing(2);
    private final ManyToOneCompletionRing completions = new ManyToOneCompletionRing(2);
    private final InFlight[] table = {new InFlight(), new InFlight()};
    private int cardSaw;
    private int frontSaw;
    private int leftOver;

    private final SubmissionHandler card = value ->
    {
        final InFlight entry = table[(int)value];
        cardSaw = entry.isSubmitted(ID) ? 1 : 2;
        entry.complete(ID);
        completions.offer(token(ID), status(ID), length(ID));
    };

    private final CompletionHandler front = (token, status, length) ->
        frontSaw = Payload.isWhole(token, status, length) && Payload.idOf(token) == ID && table[ID].isCompleted(ID) ? 1 : 2;

    private final SubmissionHandler countSubmission = value -> leftOver++;
    private final CompletionHandler countCompletion = (token, status, length) -> leftOver++;

    public InFlightRoundTripTest()
    {
        table[ID].submit(7);
        table[ID].complete(7);
    }

    @Actor
    public void frontQueue()
    {
        table[ID].submit(ID);
        submissions.offer(ID);
        completions.drain(front, 1);
    }

    @Actor
    public void cardWorker()
    {
        submissions.drain(card, 1);
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        Rings.drainAll(submissions, countSubmission);
        Rings.drainAll(completions, countCompletion);
        r.r1 = cardSaw;
        r.r2 = frontSaw;
        r.r3 = leftOver;
    }
}
