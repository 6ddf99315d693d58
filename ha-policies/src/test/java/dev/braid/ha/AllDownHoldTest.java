package dev.braid.ha;

import org.junit.jupiter.api.Test;

import static dev.braid.ha.HoldDownBackoffTest.MS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hold-down back-off damps the map while another card serves, and only then: once every card
 * is down, a card held out by its flaps is probed after the base hold, because a card that passes
 * its probes is then the guest's only way out of the all-down deadline. Found under {@code braid
 * serve --faults heavy}: sim1 healed but held DOWN for its 30 s back-off while sim0 hung, and the
 * guest got I/O errors at the all-down deadline with a healthy card in the pool.
 */
class AllDownHoldTest
{
    private final HoldDownBackoffTest.Recorder recorder = new HoldDownBackoffTest.Recorder();
    private final HealthMonitor monitor = new HealthMonitor(HoldDownBackoffTest.config(), 2, recorder);

    /** Card 1 fails right after each rejoin, {@code flaps} times: its next hold is 10 ms doubled per flap. */
    private long flap(final int flaps)
    {
        monitor.addCard(0, HealthState.UP, 0);
        monitor.addCard(1, HealthState.UP, 0);
        long now = 0;
        for (int i = 0; i < flaps; i++)
        {
            monitor.onLinkChange(1, false, now);
            monitor.onLinkChange(1, true, now);
            final long hold = monitor.card(1).holdNanos();
            now += hold;
            monitor.tick(now);
            assertEquals(HealthState.PROBING, monitor.state(1), "after its hold of " + hold / MS + " ms");
            for (int p = 0; p < 3; p++)
            {
                monitor.onProbeResult(1, true, now);
            }
            assertEquals(HealthState.UP, monitor.state(1));
            now += MS;
        }
        monitor.onLinkChange(1, false, now);
        monitor.onLinkChange(1, true, now);
        return now;
    }

    @Test
    void whileAnotherCardServesAFlappingCardWaitsOutItsWholeHold()
    {
        final long downAt = flap(5);
        final long hold = monitor.card(1).holdNanos();
        assertEquals(320 * MS, hold, "10 ms doubled for each of 5 flaps");
        monitor.tick(downAt + hold - MS);
        assertEquals(HealthState.DOWN, monitor.state(1), "card 0 serves: the back-off holds");
        monitor.tick(downAt + hold);
        assertEquals(HealthState.PROBING, monitor.state(1));
    }

    @Test
    void onceNoCardServesAFlappingCardIsProbedAfterTheBaseHold()
    {
        final long downAt = flap(5);
        assertEquals(320 * MS, monitor.card(1).holdNanos());
        monitor.tick(downAt + 20 * MS);
        assertEquals(HealthState.DOWN, monitor.state(1), "card 0 still serves");

        // Card 0 hangs: its oldest request passes the completion timeout.
        final long allDownAt = downAt + 30 * MS;
        monitor.onOldestInflightAge(0, HoldDownBackoffTest.TIMEOUT, allDownAt);
        assertEquals(HealthState.DOWN, monitor.state(0));
        monitor.tick(allDownAt);
        assertEquals(HealthState.PROBING, monitor.state(1),
            "no card serves: card 1, down 30 ms (past the 10 ms base hold), is probed now, not at 320 ms");
        assertTrue(recorder.transitions.get(recorder.transitions.size() - 1).startsWith("DOWN>PROBING:HOLD_EXPIRED"),
            recorder.transitions.toString());
        for (int p = 0; p < 3; p++)
        {
            monitor.onProbeResult(1, true, allDownAt + p * 5 * MS);
        }
        assertEquals(HealthState.UP, monitor.state(1), "the healthy card carries the guest again");
        monitor.onLinkChange(1, false, allDownAt + 11 * MS);
        assertEquals(640 * MS, monitor.card(1).holdNanos(), "its flaps still count: the next hold doubles");
    }

    @Test
    void aCardThatJustFellWaitsAtLeastTheBaseHoldEvenWithNoCardServing()
    {
        monitor.addCard(0, HealthState.UP, 0);
        monitor.addCard(1, HealthState.UP, 0);
        monitor.onLinkChange(0, false, 0);
        monitor.onLinkChange(0, true, 0);
        monitor.onLinkChange(1, false, 0);
        monitor.onLinkChange(1, true, 0);
        monitor.tick(9 * MS);
        assertEquals(HealthState.DOWN, monitor.state(0), "the base hold (10 ms) still damps");
        assertEquals(HealthState.DOWN, monitor.state(1));
        monitor.tick(10 * MS);
        assertEquals(HealthState.PROBING, monitor.state(0));
        assertEquals(HealthState.PROBING, monitor.state(1));
    }
}
