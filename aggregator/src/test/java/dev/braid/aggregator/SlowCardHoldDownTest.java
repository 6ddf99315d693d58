package dev.braid.aggregator;

import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.FailoverLog;
import dev.braid.ha.HealthConfig;
import dev.braid.ha.HealthState;
import dev.braid.sim.LatencyModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 7 part 4: a card that passes probes but cannot serve. One simulated disk a little slower
 * than the completion timeout (or exactly as slow) serves a guest: every request times out, so the
 * guest must see its requests fail near the all-down deadline, and the card must be held down (its
 * probes, held to the same timeout, fail) instead of coming UP and timing out again and again.
 */
class SlowCardHoldDownTest
{
    static final long MS = 1_000_000L;
    static final long TIMEOUT = 5 * MS;
    static final long DEADLINE = 50 * MS;

    @ParameterizedTest(name = "latency = timeout + {0} ms")
    @ValueSource(longs = { 0, 1 })
    void aDiskSlowerThanTheTimeoutFailsTheGuestNearTheDeadlineAndStaysDown(final long extraMs)
    {
        final BlkRig.Options options = new BlkRig.Options();
        options.cards = 1;
        options.requestsPerQueue = 8;
        options.latency = LatencyModel.fixed(TIMEOUT + extraMs * MS);
        options.health = new HealthConfig().completionTimeoutNanos(TIMEOUT).minDownNanos(2 * MS)
            .probeIntervalNanos(MS).maxDownNanos(1000 * MS);
        // The builder's default probe timeout (50 ms) is far above the completion timeout.
        options.customise = c -> c.allDown(AllDownPolicy.queueUntilDeadline(DEADLINE));
        final BlkRig rig = new BlkRig(7, options);

        final boolean failed = rig.scheduler.runUntil(() -> rig.guests[0].errors() > 0, 120_000 * MS, 50_000_000L);
        final long firstFailure = rig.clock.nanoTime();
        final int ups = upTransitions(rig.device.failoverLog());
        assertTrue(failed, "the guest saw no failure in 120 s of virtual time (card came UP " + ups + " times)");
        assertTrue(firstFailure <= TIMEOUT + DEADLINE + 20 * MS,
            "the first guest request failed after " + firstFailure / MS + " ms, not near the " +
            (TIMEOUT + DEADLINE) / MS + " ms deadline (card came UP " + ups + " times)");
        assertEquals(0, ups, "a card too slow to serve must not pass its probes");

        // Keep going: the card is held down with a growing hold, never UP, and every request fails.
        rig.scheduler.runUntil(rig::finished, 10_000 * MS, 50_000_000L);
        assertTrue(rig.finished(), "every request completed, with an error");
        assertEquals(0, upTransitions(rig.device.failoverLog()), "still never UP");
        assertNotEquals(HealthState.UP, rig.device.health(0));
        assertEquals(0, rig.guests[0].strays());
        assertEquals(options.requestsPerQueue, rig.guests[0].errors(), "all failed: no card could serve them");
    }

    private static int upTransitions(final FailoverLog log)
    {
        int ups = 0;
        final FailoverLog.Entry e = new FailoverLog.Entry();
        for (long s = Math.max(0, log.appended() - log.capacity()); s < log.appended(); s++)
        {
            if (log.read(s, e) && e.to() == HealthState.UP && e.from() != HealthState.UP)
            {
                ups++;
            }
        }
        return ups;
    }
}
