package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hold-down back-off of a card that passes probes but cannot serve, on a fake clock: a card
 * that keeps failing soon after it rejoins stays DOWN ever longer (capped), is forgiven only after
 * healthy service, and a card exactly as slow as the timeout never comes UP at all.
 */
class HoldDownBackoffTest
{
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    static final long TIMEOUT = 20 * MS;

    /** Timeout 20 ms, probes every 5 ms and 3 to come UP, hold 10 ms doubling up to 1 s, forgiven after 2 s UP. */
    static HealthConfig config()
    {
        return new HealthConfig()
            .completionTimeoutNanos(TIMEOUT)
            .probeIntervalNanos(5 * MS).upAfterProbes(3)
            .minDownNanos(10 * MS).maxDownNanos(1000 * MS).stableNanos(2000 * MS);
    }

    static final class Recorder implements HealthListener
    {
        final List<String> transitions = new ArrayList<>();
        int ups;
        int downs;

        public void onTransition(
            final int card, final HealthState from, final HealthState to, final long now, final TransitionReason reason)
        {
            transitions.add(from + ">" + to + ":" + reason + "@" + now / MS);
            ups += to == HealthState.UP ? 1 : 0;
            downs += to == HealthState.DOWN ? 1 : 0;
        }
    }

    /**
     * Drives one card for {@code horizon}: every probe answers OK after {@code probeLatency}; once UP,
     * the oldest request reaches {@code requestAge} right away and is reported a millisecond later.
     */
    static CardHealth drive(final Recorder recorder, final long probeLatency, final long requestAge, final long horizon)
    {
        final CardHealth h = new CardHealth(0, config(), recorder, HealthState.UP, 0);
        h.onOldestInflightAge(requestAge, 0);
        long probeAnswerAt = -1;
        long probeSentAt = 0;
        for (long now = 0; now <= horizon; now += MS / 4)
        {
            h.tick(now);
            if (h.state() == HealthState.PROBING)
            {
                if (probeAnswerAt >= 0 && now >= probeAnswerAt)
                {
                    h.onProbeResult(true, now - probeSentAt, now);
                    probeAnswerAt = -1;
                }
                if (probeAnswerAt < 0 && h.probeDue(now))
                {
                    h.onProbeSent(now);
                    probeSentAt = now;
                    probeAnswerAt = now + probeLatency;
                }
            }
            else
            {
                probeAnswerAt = -1;
            }
            if (h.state() == HealthState.UP && now - h.stateSinceNanos() >= MS)
            {
                h.onOldestInflightAge(requestAge, now);
            }
        }
        return h;
    }

    @Test
    void aCardExactlyAsSlowAsTheTimeoutNeverComesUpAndIsHeldDownEverLonger()
    {
        final Recorder recorder = new Recorder();
        final CardHealth h = drive(recorder, TIMEOUT, TIMEOUT, 60_000 * MS);
        assertEquals(0, recorder.ups, "a probe as slow as the timeout is a failed probe: " + recorder.transitions);
        assertEquals(1000 * MS, h.holdNanos(), "the hold grew to its cap");
        // 10, 20, 40, ..., 640 ms then 1 s: over a minute, about 60 falls, not thousands.
        assertTrue(recorder.downs < 70, "held down, not flapping: " + recorder.downs + " falls");
    }

    @Test
    void aCardOneMillisecondSlowerThanTheTimeoutNeverComesUp()
    {
        final Recorder recorder = new Recorder();
        drive(recorder, TIMEOUT + MS, TIMEOUT + MS, 10_000 * MS);
        assertEquals(0, recorder.ups, recorder.transitions.toString());
    }

    @Test
    void aCardThatPassesProbesButTimesOutOnTrafficBacksOffExponentiallyToTheCap()
    {
        final Recorder recorder = new Recorder();
        final CardHealth h = drive(recorder, MS, TIMEOUT, 60_000 * MS);
        assertEquals(1000 * MS, h.holdNanos(), "capped");
        // Holds 10 ms .. 1 s then 1 s each: under 70 rejoins in a minute rather than ~1500 at a fixed hold.
        assertTrue(recorder.ups > 5 && recorder.ups < 70, "rejoins: " + recorder.ups);
        final List<Long> holds = holdsOf(recorder.transitions);
        for (int i = 1; i < 7; i++)
        {
            assertEquals(Math.min(1000, 10L << i), holds.get(i), "hold " + i + " of " + holds);
        }
    }

    @Test
    void theBackoffIsForgivenAfterHealthyService()
    {
        final Recorder recorder = new Recorder();
        final CardHealth h = new CardHealth(0, config(), recorder, HealthState.UP, 0);
        long now = 0;
        for (int i = 0; i < 4; i++)
        {
            now = failAndRejoin(h, now);
        }
        assertEquals(80 * MS, h.holdNanos(), "four quick failures: holds of 10, 20, 40, 80 ms");
        h.tick(now + 2000 * MS);
        h.onLinkChange(false, now + 2000 * MS);
        assertEquals(10 * MS, h.holdNanos(), "UP for stableNanos: back to the base hold");
    }

    @Test
    void aCardThatLingersSuspectIsNotForgiven()
    {
        final Recorder recorder = new Recorder();
        final CardHealth h = new CardHealth(0, config().suspectAfterErrors(1).downAfterErrors(1000), recorder,
            HealthState.UP, 0);
        long now = 0;
        for (int i = 0; i < 4; i++)
        {
            now = failAndRejoin(h, now);
        }
        // It comes back, but errors keep it SUSPECT: it carries traffic without serving healthily.
        for (long t = now; t < now + 3000 * MS; t += 100 * MS)
        {
            h.onError(t);
            h.tick(t);
        }
        assertEquals(HealthState.SUSPECT, h.state());
        h.onLinkChange(false, now + 3000 * MS);
        assertEquals(160 * MS, h.holdNanos(), "SUSPECT is not healthy service: the back-off keeps growing");
    }

    @Test
    void aProbeAsSlowAsTheCompletionTimeoutFailsThroughTheController()
    {
        final long[] clock = {0};
        final CardPool pool = new CardPool(4);
        pool.add(0, 1, 0);
        pool.add(1, 1, 0);
        final List<Integer> probes = new ArrayList<>();
        final HaController ha = new HaController(() -> clock[0], config(), pool,
            new ActiveActivePolicy(1, DispatchMode.QUEUE_AFFINE), AllDownPolicy.queueUntilDeadline(1000 * MS),
            probes::add, 64);
        assertEquals(HealthState.UP, ha.healthOf(1));
        ha.onLinkChange(1, false);
        step(ha, clock, MS);
        assertEquals(HealthState.DOWN, ha.healthOf(1), "any thread sees the health the controller set");
        ha.onLinkChange(1, true);
        step(ha, clock, 10 * MS);
        assertEquals(HealthState.PROBING, ha.healthOf(1));
        assertTrue(ha.onProbeResult(1, true, TIMEOUT));
        step(ha, clock, MS);
        assertEquals(HealthState.DOWN, ha.healthOf(1), "an OK that took the whole timeout is a failed probe");
        assertNull(ha.healthOf(3), "not in the pool");
        assertNull(ha.healthOf(99), "out of range");
    }

    @Test
    void lastServedMovesOnlyWhenARequestSucceeds()
    {
        final long[] clock = {5 * MS};
        final CardPool pool = new CardPool(2);
        pool.add(0, 1, 0);
        final HaController ha = new HaController(() -> clock[0], config(), pool,
            new ActiveActivePolicy(1, DispatchMode.QUEUE_AFFINE), AllDownPolicy.queueUntilDeadline(1000 * MS),
            card -> { }, 64);
        assertEquals(5 * MS, ha.lastServedNanos(), "construction time until the first success");
        step(ha, clock, 10 * MS);
        ha.onError(0);
        step(ha, clock, 10 * MS);
        assertEquals(5 * MS, ha.lastServedNanos(), "errors are not service");
        ha.onSuccess(0);
        step(ha, clock, 10 * MS);
        assertEquals(35 * MS, ha.lastServedNanos());
        // The card flaps: DOWN, back UP by probes, DOWN again. allDownSince resets, lastServed does not.
        ha.onLinkChange(0, false);
        step(ha, clock, MS);
        assertTrue(ha.allDownSinceNanos() != HaController.NOT_ALL_DOWN);
        ha.onLinkChange(0, true);
        step(ha, clock, 10 * MS);
        for (int i = 0; i < 3; i++)
        {
            ha.onProbeResult(0, true, MS);
            step(ha, clock, 5 * MS);
        }
        assertEquals(HealthState.UP, ha.healthOf(0));
        assertEquals(HaController.NOT_ALL_DOWN, ha.allDownSinceNanos(), "the map is not empty for a moment");
        assertEquals(35 * MS, ha.lastServedNanos(), "but nothing has been served since 35 ms");
    }

    private static void step(final HaController ha, final long[] clock, final long nanos)
    {
        clock[0] += nanos;
        ha.doWork();
    }

    /** Link down, link up, wait out the hold, three fast good probes: UP again. Returns the time after. */
    private static long failAndRejoin(final CardHealth h, final long start)
    {
        long now = start + MS;
        h.onLinkChange(false, now);
        h.onLinkChange(true, now);
        final long hold = h.holdNanos();
        now += hold;
        h.tick(now);
        assertEquals(HealthState.PROBING, h.state());
        for (int i = 0; i < 3; i++)
        {
            h.onProbeSent(now);
            h.onProbeResult(true, MS, now + MS);
            now += 5 * MS;
            h.tick(now);
        }
        assertEquals(HealthState.UP, h.state());
        return now;
    }

    /** The DOWN holds actually served: time from each →DOWN to the next DOWN>PROBING, in ms. */
    private static List<Long> holdsOf(final List<String> transitions)
    {
        final List<Long> holds = new ArrayList<>();
        long downAt = -1;
        for (final String t : transitions)
        {
            final long at = Long.parseLong(t.substring(t.indexOf('@') + 1));
            if (t.contains(">DOWN:"))
            {
                downAt = at;
            }
            else if (t.startsWith("DOWN>PROBING") && downAt >= 0)
            {
                holds.add(at - downAt);
            }
        }
        return holds;
    }
}
