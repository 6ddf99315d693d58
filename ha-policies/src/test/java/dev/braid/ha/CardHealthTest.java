package dev.braid.ha;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CardHealthTest
{
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /** suspect at 2 errors, down at 4, in 100 ms; timeout 500 ms; probes every 10 ms, 2 to come UP; hold 50..400 ms. */
    static HealthConfig config()
    {
        return new HealthConfig()
            .suspectAfterErrors(2).downAfterErrors(4).errorWindowNanos(100 * MS)
            .completionTimeoutNanos(500 * MS)
            .probeIntervalNanos(10 * MS).upAfterProbes(2)
            .minDownNanos(50 * MS).maxDownNanos(400 * MS).stableNanos(1000 * MS);
    }

    /**
     * Script: space-separated {@code input@ms}. Inputs: e error, s success, l0/l1 link down/up, aN oldest
     * in-flight age N ms, p0/p1 probe failed/ok, t tick. Expected: {@code FROM>TO:REASON@ms} joined by '|'.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "one error stays UP;                 e@0;                                ''",
        "errors to SUSPECT;                  e@0 e@1;                            UP>SUSPECT:ERRORS@1",
        "errors outside window do not add;   e@0 e@100 e@200;                    ''",
        "errors to DOWN via SUSPECT;         e@0 e@1 e@2 e@3;                    UP>SUSPECT:ERRORS@1|SUSPECT>DOWN:ERRORS@3",
        "SUSPECT recovers;                   e@0 e@1 s@50 t@100 t@101;           UP>SUSPECT:ERRORS@1|SUSPECT>UP:RECOVERED@101",
        "SUSPECT without success stays;      e@0 e@1 t@500;                      UP>SUSPECT:ERRORS@1",
        "error in SUSPECT restarts window;   e@0 e@1 s@50 e@60 t@101 s@120 t@159 t@160; UP>SUSPECT:ERRORS@1|SUSPECT>UP:RECOVERED@160",
        "link down is immediate;             l0@5;                               UP>DOWN:LINK_DOWN@5",
        "link up then hold then PROBING;     l0@0 l1@10 t@49 t@50;               UP>DOWN:LINK_DOWN@0|DOWN>PROBING:HOLD_EXPIRED@50",
        "no PROBING while link down;         l0@0 t@100 t@1000;                  UP>DOWN:LINK_DOWN@0",
        "timeout is a silent failure;        a499@10 a500@20;                    UP>DOWN:TIMEOUT@20",
        "timeout from SUSPECT;               e@0 e@1 a600@2;                     UP>SUSPECT:ERRORS@1|SUSPECT>DOWN:TIMEOUT@2",
        "two good probes bring UP;           l0@0 l1@1 t@50 p1@60 t@65 p1@70;         UP>DOWN:LINK_DOWN@0|DOWN>PROBING:HOLD_EXPIRED@50|PROBING>UP:PROBES_OK@70",
        "failed probe: DOWN, hold doubles;   l0@0 l1@1 t@50 p1@60 p0@70 t@169 t@170;  UP>DOWN:LINK_DOWN@0|DOWN>PROBING:HOLD_EXPIRED@50|PROBING>DOWN:PROBE_FAILED@70|DOWN>PROBING:HOLD_EXPIRED@170",
        "good probes must be consecutive;    l0@0 l1@1 t@50 p1@60 p0@70 t@170 p1@180 p1@190; UP>DOWN:LINK_DOWN@0|DOWN>PROBING:HOLD_EXPIRED@50|PROBING>DOWN:PROBE_FAILED@70|DOWN>PROBING:HOLD_EXPIRED@170|PROBING>UP:PROBES_OK@190",
        "link down while PROBING;            l0@0 l1@1 t@50 l0@55;               UP>DOWN:LINK_DOWN@0|DOWN>PROBING:HOLD_EXPIRED@50|PROBING>DOWN:LINK_DOWN@55",
        "errors and ages ignored when DOWN;  l0@0 e@1 e@2 e@3 e@4 a900@5 s@6;     UP>DOWN:LINK_DOWN@0",
        "errors ignored while PROBING;       l0@0 l1@1 t@50 e@51 e@52 e@53 e@54 p1@60 p1@70; UP>DOWN:LINK_DOWN@0|DOWN>PROBING:HOLD_EXPIRED@50|PROBING>UP:PROBES_OK@70",
        "stale probe ignored when UP;        p0@0 p1@1;                          ''",
        "time going back counts as latest;   e@100 e@50;                         UP>SUSPECT:ERRORS@100",
        "quick re-failure doubles hold;      l0@0 l1@1 t@50 p1@60 p1@70 l0@80 l1@81 t@179 t@180; UP>DOWN:LINK_DOWN@0|DOWN>PROBING:HOLD_EXPIRED@50|PROBING>UP:PROBES_OK@70|UP>DOWN:LINK_DOWN@80|DOWN>PROBING:HOLD_EXPIRED@180",
        "stable card is forgiven;            l0@0 l1@1 t@50 p1@60 p1@70 t@1070 l0@1100 l1@1101 t@1149 t@1150; UP>DOWN:LINK_DOWN@0|DOWN>PROBING:HOLD_EXPIRED@50|PROBING>UP:PROBES_OK@70|UP>DOWN:LINK_DOWN@1100|DOWN>PROBING:HOLD_EXPIRED@1150",
    })
    void transitions(final String name, final String script, final String expected)
    {
        final List<String> seen = new ArrayList<>();
        final CardHealth h = new CardHealth(
            7, config(), (card, from, to, now, reason) -> seen.add(from + ">" + to + ":" + reason + "@" + now / MS),
            HealthState.UP, 0);
        for (final String step : script.trim().split("\\s+"))
        {
            apply(h, step);
        }
        assertEquals(expected.trim(), String.join("|", seen), name);
    }

    static void apply(final CardHealth h, final String step)
    {
        final int at = step.indexOf('@');
        final String input = step.substring(0, at);
        final long now = Long.parseLong(step.substring(at + 1)) * MS;
        switch (input.charAt(0))
        {
            case 'e' -> h.onError(now);
            case 's' -> h.onSuccess(now);
            case 'l' -> h.onLinkChange(input.charAt(1) == '1', now);
            case 'a' -> h.onOldestInflightAge(Long.parseLong(input.substring(1)) * MS, now);
            case 'p' -> h.onProbeResult(input.charAt(1) == '1', now);
            case 't' -> h.tick(now);
            default -> throw new IllegalArgumentException(step);
        }
    }

    @Test
    void holdDoublesUpToCapAndProbesAreSpaced()
    {
        final CardHealth h = new CardHealth(0, config(), (c, f, t, n, r) -> {}, HealthState.UP, 0);
        long now = 0;
        final long[] expectedHolds = {50, 100, 200, 400, 400, 400};
        for (final long hold : expectedHolds)
        {
            h.onLinkChange(false, now);
            assertEquals(hold * MS, h.holdNanos());
            h.onLinkChange(true, now);
            now += hold * MS;
            h.tick(now);
            assertEquals(HealthState.PROBING, h.state());
            assertTrue(h.probeDue(now));
            h.onProbeSent(now);
            assertTrue(!h.probeDue(now + 9 * MS) && h.probeDue(now + 10 * MS));
            h.onProbeResult(false, now);
        }
        assertEquals(HealthState.DOWN, h.state());
    }

    @Test
    void cannotStartSuspect()
    {
        assertThrows(IllegalArgumentException.class,
            () -> new CardHealth(0, config(), (c, f, t, n, r) -> {}, HealthState.SUSPECT, 0));
    }

    @Test
    void monitorRoutesInputsAndTicksInIdOrder()
    {
        final List<String> seen = new ArrayList<>();
        final HealthMonitor m = new HealthMonitor(config(), 4, (card, from, to, now, reason) -> seen.add(card + ":" + to));
        m.addCard(3, HealthState.DOWN, 0);
        m.addCard(1, HealthState.DOWN, 0);
        m.tick(50 * MS);
        assertEquals(List.of("1:PROBING", "3:PROBING"), seen);
        m.onProbeResult(1, true, 51 * MS);
        m.onProbeResult(1, true, 52 * MS);
        assertEquals(HealthState.UP, m.state(1));
        assertThrows(IllegalArgumentException.class, () -> m.onError(2, 0));
        assertThrows(IllegalArgumentException.class, () -> m.addCard(4, HealthState.UP, 0));
        assertThrows(IllegalArgumentException.class, () -> m.addCard(1, HealthState.UP, 0));
        m.removeCard(1);
        assertTrue(!m.contains(1) && m.contains(3));
    }
}
