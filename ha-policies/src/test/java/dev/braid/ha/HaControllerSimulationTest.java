package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.braid.mapper.QueueMap;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The controller on a virtual clock under random faults, probes, pool operations and drain acks
 * that arrive late or never, checking every published map.
 */
@ExtendWith(SeedExtension.class)
class HaControllerSimulationTest
{
    static final long MS = 1_000_000L;

    @Test
    void randomFaultsNeverStrandAGuestQueueNorMoveSurvivorsUndrained(final Seed seed)
    {
        seed.forEach(Math.max(20, seed.seeds() / 10), s -> run(new Random(s)));
    }

    private static void run(final Random rnd)
    {
        final int maxCards = 8;
        final CardPool pool = new CardPool(maxCards);
        final int cards = 2 + rnd.nextInt(5);
        for (int c = 0; c < cards; c++)
        {
            pool.add(c, 1 + rnd.nextInt(4), 0);
        }
        final int g = 1 + rnd.nextInt(16);
        final MapPolicy policy = rnd.nextBoolean() ?
            new ActiveActivePolicy(g, rnd.nextInt(3) == 0 ? DispatchMode.REQUEST_SPRAY : DispatchMode.QUEUE_AFFINE) :
            new ActivePassivePolicy(g, rnd.nextBoolean() ? Failback.immediate() : Failback.delayed(30 * MS));
        final long[] now = {0};
        final List<Integer> probes = new ArrayList<>();
        final HaController ha = new HaController(() -> now[0], HaControllerTest.config(), pool, policy,
            AllDownPolicy.queueUntilDeadline(100 * MS), probes::add, 256);
        final boolean[] linkUp = new boolean[maxCards];
        java.util.Arrays.fill(linkUp, true);
        QueueMap prev = ha.publisher().current();

        for (int step = 0; step < 400; step++)
        {
            now[0] += MS;
            final int c = rnd.nextInt(maxCards);
            switch (rnd.nextInt(40))
            {
                case 0 -> { linkUp[c] = false; ha.onLinkChange(c, false); }
                case 1, 2 -> { linkUp[c] = true; ha.onLinkChange(c, true); }
                case 3 -> { for (int k = 0; k < 4; k++) ha.onError(c); }
                case 4 -> ha.onOldestInflightAge(c, 600 * MS);
                case 5 -> ha.hotAdd(c, 1 + rnd.nextInt(4));
                case 6 -> ha.hotRemove(c);
                case 7 -> ha.failback();
                default -> ha.onSuccess(c);
            }
            for (int i = 0; i < maxCards; i++)
            {
                if (ha.pool().contains(i) && ha.pool().membership(i) == Membership.REMOVING && !prev.usesCard(i) &&
                    rnd.nextInt(3) == 0)
                {
                    ha.onCardDrained(i);
                }
            }
            for (final int p : probes)
            {
                ha.onProbeResult(p, linkUp[p] && rnd.nextInt(10) != 0);
            }
            probes.clear();
            final long ticket = ha.pendingDrain();
            if (ticket != HaController.NO_DRAIN && rnd.nextInt(3) == 0)
            {
                ha.onGuestQueueDrained(ticket);
            }
            ha.doWork();

            final QueueMap next = ha.publisher().current();
            check(prev, next, ha, step);
            prev = next;
        }
    }

    private static void check(final QueueMap prev, final QueueMap next, final HaController ha, final int step)
    {
        final CardPool pool = ha.pool();
        assertTrue(next.epoch() >= prev.epoch());
        final boolean anyUsable = pool.usableCount() > 0;
        assertEquals(!anyUsable, ha.allDownSinceNanos() != HaController.NOT_ALL_DOWN, "step " + step);
        int undrainedMoves = 0;
        for (int q = 0; q < next.guestQueueCount(); q++)
        {
            assertEquals(anyUsable, next.routeCount(q) > 0, () -> "stranded at step " + step + ": " + pool + " " + next);
            for (int i = 0; i < next.routeCount(q); i++)
            {
                final int card = QueueMap.cardOf(next.route(q, i));
                assertTrue(pool.isUsable(card), () -> "route to unusable card at step " + step + ": " + pool + " " + next);
            }
            // A route that left a card which is still usable was a drained move: at most one per epoch.
            for (int i = 0; i < prev.routeCount(q); i++)
            {
                final int r = prev.route(q, i);
                boolean kept = false;
                for (int k = 0; k < next.routeCount(q); k++)
                {
                    kept |= next.route(q, k) == r;
                }
                if (!kept && pool.isUsable(QueueMap.cardOf(r)))
                {
                    undrainedMoves++;
                }
            }
        }
        assertTrue(undrainedMoves <= next.epoch() - prev.epoch(),
            () -> "survivor moved without a drain at step " + step + ":\n" + prev + "\n" + next);
        for (int i = 0; i < pool.size(); i++)
        {
            final int c = pool.cardAt(i);
            if (pool.membership(c) == Membership.REMOVING)
            {
                assertFalse(next.usesCard(c));
            }
        }
    }
}
