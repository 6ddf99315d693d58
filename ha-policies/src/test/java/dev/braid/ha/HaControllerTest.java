package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.braid.mapper.QueueMap;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HaControllerTest
{
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /** A controller on a virtual clock, answering nothing by itself. */
    static final class Harness
    {
        final long[] now = {0};
        final List<Integer> probes = new ArrayList<>();
        final HaController ha;

        Harness(final CardPool pool, final MapPolicy policy, final AllDownPolicy allDown)
        {
            ha = new HaController(() -> now[0], config(), pool, policy, allDown, probes::add, 1024);
        }

        void advance(final long nanos)
        {
            now[0] += nanos;
            ha.doWork();
        }

        QueueMap map()
        {
            return ha.publisher().current();
        }

        List<String> log()
        {
            final List<String> out = new ArrayList<>();
            final FailoverLog.Entry e = new FailoverLog.Entry();
            final FailoverLog log = ha.failoverLog();
            for (long s = Math.max(0, log.appended() - log.capacity()); s < log.appended(); s++)
            {
                assertTrue(log.read(s, e));
                out.add("c" + e.card() + " " + e.from() + ">" + e.to() + " " + e.reason() + " e" + e.epoch());
            }
            return out;
        }

        /** The link of {@code card} comes back; after the 50 ms hold both probes pass, 10 ms apart. */
        void linkUpAndProbesPass(final int card)
        {
            ha.onLinkChange(card, true);
            advance(50 * MS);
            ha.onProbeResult(card, true);
            advance(10 * MS);
            ha.onProbeResult(card, true);
            advance(MS);
        }

        /** Acknowledges drains until the plan is done. */
        int drainAll()
        {
            int moves = 0;
            for (long t = ha.pendingDrain(); t != HaController.NO_DRAIN; t = ha.pendingDrain())
            {
                assertTrue(ha.onGuestQueueDrained(t));
                ha.doWork();
                moves++;
            }
            return moves;
        }
    }

    static HealthConfig config()
    {
        // CardHealthTest's thresholds, with longer hold-downs so a test's card stays down while it looks.
        return CardHealthTest.config().maxDownNanos(2000 * MS).stableNanos(5000 * MS);
    }

    static Harness activeActive(final int cards, final int guestQueues)
    {
        final CardPool pool = new CardPool(8);
        for (int c = 0; c < cards; c++)
        {
            pool.add(c, 4, 0);
        }
        return new Harness(pool, new ActiveActivePolicy(guestQueues, DispatchMode.QUEUE_AFFINE),
            AllDownPolicy.queueUntilDeadline(1000 * MS));
    }

    @Test
    void linkDownPublishesANewEpochWithoutTheCard()
    {
        final Harness h = activeActive(2, 4);
        assertEquals(1, h.map().epoch());
        assertTrue(h.map().usesCard(1));
        h.advance(MS);
        assertEquals(1, h.map().epoch(), "nothing happened: same map");

        assertTrue(h.ha.onLinkChange(1, false));
        h.advance(MS);
        assertEquals(2, h.map().epoch());
        assertFalse(h.map().usesCard(1));
        assertEquals(List.of("c1 UP>DOWN LINK_DOWN e2"), h.log());
        assertEquals(HaController.NOT_ALL_DOWN, h.ha.allDownSinceNanos());
    }

    @Test
    void recoveryGoesThroughProbesThenADrainedRebalance()
    {
        final Harness h = activeActive(2, 4);
        h.ha.onLinkChange(1, false);
        h.advance(MS);
        h.ha.onLinkChange(1, true);
        h.advance(49 * MS);
        assertTrue(h.probes.isEmpty());
        h.advance(MS); // hold of 50 ms served: PROBING, first probe sent
        assertEquals(List.of(1), h.probes);
        h.ha.onProbeResult(1, true);
        h.advance(MS);
        assertEquals(1, h.probes.size(), "next probe only after the probe interval");
        h.advance(9 * MS);
        assertEquals(2, h.probes.size());
        h.ha.onProbeResult(1, true);
        final long epoch = h.map().epoch();
        h.advance(MS); // UP: a plan starts, nothing is published until the first drain
        assertEquals(epoch, h.map().epoch());
        final long ticket = h.ha.pendingDrain();
        assertNotEquals(HaController.NO_DRAIN, ticket);
        final int g = HaController.guestQueueOf(ticket);
        assertTrue(h.map().usesCard(g, 0));

        h.ha.onGuestQueueDrained(ticket + (1 << 16)); // a wrong ticket is ignored
        h.advance(MS);
        assertEquals(epoch, h.map().epoch());

        assertEquals(2, h.drainAll());
        assertEquals(epoch + 2, h.map().epoch());
        ActiveActivePolicyTest.assertBalanced(h.map(), h.ha.pool(), "after recovery");
        assertTrue(h.map().usesCard(g, 1), "the first drained guest queue moved to the recovered card");
        System.out.println(String.join("\n", h.log()));
        assertTrue(h.log().contains("c1 PROBING>UP PROBES_OK e" + epoch));
    }

    @Test
    void failureDuringAPlanAbandonsIt()
    {
        final Harness h = activeActive(3, 6);
        h.ha.onLinkChange(2, false);
        h.advance(MS);
        h.linkUpAndProbesPass(2);
        final long ticket = h.ha.pendingDrain();
        assertNotEquals(HaController.NO_DRAIN, ticket);

        h.ha.onLinkChange(0, false);
        h.advance(MS);
        assertFalse(h.map().usesCard(0));
        final long after = h.map().epoch();
        h.ha.onGuestQueueDrained(ticket); // stale
        h.advance(MS);
        assertTrue(h.ha.pendingDrain() != ticket);
        assertEquals(after, h.map().epoch(), "a stale ack publishes nothing");
        h.drainAll();
        ActiveActivePolicyTest.assertBalanced(h.map(), h.ha.pool(), "after abandoned plan");
    }

    /** An idle device reports age 0 for every card each interval: no work, so the agent thread can park. */
    @Test
    void anIdleAgeReportIsNotWork()
    {
        final Harness h = activeActive(3, 3);
        h.advance(MS);
        h.advance(MS);
        h.now[0] += MS;
        assertEquals(0, h.ha.doWork(), "settled and idle");
        for (int c = 0; c < 3; c++)
        {
            assertTrue(h.ha.onOldestInflightAge(c, 0));
        }
        h.now[0] += MS;
        assertEquals(0, h.ha.doWork(), "age 0 on every card is not work");
        h.ha.onOldestInflightAge(1, 5 * MS);
        h.now[0] += MS;
        assertTrue(h.ha.doWork() > 0, "a request in flight for 5 ms is");
    }

    @Test
    void silentFailureAndErrorsThroughCounters()
    {
        final Harness h = activeActive(3, 3);
        assertTrue(h.ha.onOldestInflightAge(0, 499 * MS));
        h.advance(MS);
        assertTrue(h.map().usesCard(0));
        h.ha.onOldestInflightAge(0, 500 * MS);
        h.advance(MS);
        assertFalse(h.map().usesCard(0));

        for (int i = 0; i < 3; i++)
        {
            h.ha.onError(1);
        }
        h.advance(MS);
        assertEquals(HealthState.SUSPECT, h.ha.monitor().state(1));
        assertTrue(h.map().usesCard(1), "SUSPECT keeps its queues");
        h.ha.onError(1);
        h.advance(MS);
        assertFalse(h.map().usesCard(1));
        assertTrue(h.map().usesCard(2));
        assertFalse(h.ha.onError(99), "id outside the pool range");
    }

    @Test
    void hotAddAndHotRemove()
    {
        final Harness h = activeActive(2, 6);
        assertTrue(h.ha.hotAdd(5, 2));
        h.advance(MS);
        assertEquals(2, h.drainAll());
        ActiveActivePolicyTest.assertBalanced(h.map(), h.ha.pool(), "after hot add");
        assertTrue(h.map().usesCard(5));

        h.ha.hotRemove(0);
        h.advance(MS);
        assertEquals(Membership.REMOVING, h.ha.pool().membership(0));
        assertFalse(h.map().usesCard(0), "a map without the card is published first");
        h.ha.onCardDrained(0);
        h.advance(MS);
        assertFalse(h.ha.pool().contains(0));
        assertFalse(h.ha.monitor().contains(0));
        final List<String> log = h.log();
        System.out.println(String.join("\n", log));
        assertTrue(log.get(0).startsWith("c5 UP>UP HOT_ADD"));
        assertTrue(log.stream().anyMatch(s -> s.startsWith("c0 UP>UP REMOVING")));
        assertTrue(log.get(log.size() - 1).startsWith("c0 UP>UP REMOVED"));
    }

    @Test
    void allDownWaitsUntilTheDeadlineThenFails()
    {
        final Harness h = activeActive(2, 2);
        h.advance(10 * MS);
        h.ha.onLinkChange(0, false);
        h.ha.onLinkChange(1, false);
        h.advance(MS);
        final long since = h.now[0];
        assertEquals(since, h.ha.allDownSinceNanos());
        assertEquals(0, h.map().routeCount(0));
        assertEquals(AllDownAction.WAIT, h.ha.allDownAction(since + 999 * MS));
        assertEquals(AllDownAction.FAIL, h.ha.allDownAction(since + 1000 * MS));

        h.linkUpAndProbesPass(0);
        assertEquals(HaController.NOT_ALL_DOWN, h.ha.allDownSinceNanos());
        assertTrue(h.map().usesCard(0, 0) && h.map().usesCard(1, 0), "orphans go to the card that is back at once");
    }

    @Test
    void activePassiveManualFailbackThroughTheController()
    {
        final CardPool pool = new CardPool(4).add(0, 1, 0).add(1, 1, 0);
        final Harness h = new Harness(pool, new ActivePassivePolicy(2, Failback.manual()), AllDownPolicy.failFast());
        h.ha.onLinkChange(0, false);
        h.advance(MS);
        assertTrue(h.map().usesCard(1) && !h.map().usesCard(0));
        h.linkUpAndProbesPass(0);
        h.advance(10_000 * MS);
        assertEquals(HaController.NO_DRAIN, h.ha.pendingDrain(), "manual: no failback by itself");
        h.ha.failback();
        h.advance(MS);
        assertEquals(2, h.drainAll());
        assertTrue(h.map().usesCard(0) && !h.map().usesCard(1));
    }

    @Test
    void activePassiveDelayedFailbackComesDueWithoutAnyEvent()
    {
        final CardPool pool = new CardPool(4).add(0, 1, 0).add(1, 1, 0);
        final Harness h = new Harness(pool, new ActivePassivePolicy(2, Failback.delayed(300 * MS)), AllDownPolicy.failFast());
        h.ha.onLinkChange(0, false);
        h.advance(MS);
        h.linkUpAndProbesPass(0);
        h.advance(299 * MS);
        assertEquals(HaController.NO_DRAIN, h.ha.pendingDrain());
        h.advance(MS);
        assertEquals(2, h.drainAll());
        assertTrue(h.map().usesCard(0) && !h.map().usesCard(1));
    }

    /** A card whose link drops for 5 ms every 100 ms for 20 s: damping bounds the map changes. */
    @Test
    void flappingCardChangesTheMapABoundedNumberOfTimes()
    {
        final Harness h = activeActive(2, 4);
        final long total = 20_000 * MS;
        boolean linkUp = true;
        int flaps = 0;
        for (long t = MS; t <= total; t += MS)
        {
            final boolean up = (t / MS) % 100 >= 5;
            if (up != linkUp)
            {
                linkUp = up;
                h.ha.onLinkChange(1, up);
                flaps += up ? 0 : 1;
            }
            final int asked = h.probes.size();
            h.advance(MS);
            for (int i = asked; i < h.probes.size(); i++)
            {
                h.ha.onProbeResult(h.probes.get(i), linkUp);
            }
            h.drainAll();
        }
        final long downs = h.log().stream().filter(s -> s.startsWith("c1 ") && s.contains(">DOWN")).count();
        final long mapLosses = h.log().stream().filter(s -> s.startsWith("c1 UP>DOWN")).count();
        final long epochs = h.map().epoch() - 1;
        // Holds double from 50 ms to the 2 s cap: at most log2(2000/50)+1 = 7 short holds, then one per 2 s.
        final long bound = 7 + total / (2000 * MS) + 1;
        System.out.println("flapping: link flaps=" + flaps + " card DOWNs=" + downs + " map losses=" + mapLosses +
            " map epochs=" + epochs + " bound on DOWNs=" + bound);
        assertEquals(201, flaps);
        assertTrue(downs <= bound, "downs=" + downs);
        // Each loss is one repair publication, each return a rebalance of two drained moves.
        assertTrue(epochs <= 3 * mapLosses + 2, "epochs=" + epochs);
        assertTrue(epochs <= 3 * bound, "undamped this would be about " + 3 * flaps + " epochs");
    }

    @Test
    void steadyStateDoWorkAllocatesNothing()
    {
        final Harness h = activeActive(4, 16);
        final java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        if (!(bean instanceof com.sun.management.ThreadMXBean))
        {
            return;
        }
        final com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean)bean;
        final long tid = Thread.currentThread().getId();
        for (int i = 0; i < 20_000; i++) // warm up, including the intake path
        {
            h.ha.onSuccess(i & 3);
            h.ha.onOldestInflightAge(i & 3, MS);
            h.ha.onProbeResult(0, true);
            h.now[0] += 1000;
            h.ha.doWork();
        }
        final long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 20_000; i++)
        {
            h.ha.onSuccess(i & 3);
            h.ha.onOldestInflightAge(i & 3, MS);
            h.ha.onProbeResult(0, true); // ignored when UP, but goes through the ring
            h.now[0] += 1000;
            h.ha.doWork();
        }
        final long allocated = mx.getThreadAllocatedBytes(tid) - before;
        System.out.println("steady-state doWork allocated " + allocated + " bytes over 20000 calls");
        assertTrue(allocated < 1024, "allocated " + allocated);
    }
}
