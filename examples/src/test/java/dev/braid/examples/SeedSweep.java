package dev.braid.examples;

import dev.braid.examples.soak.SoakConfig;
import dev.braid.examples.soak.SoakResult;
import dev.braid.examples.soak.SoakRig;
import dev.braid.ha.Failback;
import dev.braid.sim.CardFault;
import dev.braid.sim.FaultSchedule;
import dev.braid.sim.FaultTarget;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One tiny deterministic soak per seed: a random device shape (2..8 cards, aa or ap, a random
 * selector, 1..3 queues, split or packed, shallow or deep queues), about 200 requests and 1..3
 * random faults in virtual time, never taking every card down at once. The seed fixes everything.
 */
final class SeedSweep
{
    private static final long MS = 1_000_000L;
    private static final CardFault[] FAULTS = { CardFault.FAIL_STOP, CardFault.LINK_DOWN, CardFault.HANG,
        CardFault.SLOW, CardFault.ERROR_BURST, CardFault.ZOMBIE };
    private static final String[] SELECTORS = { "least-outstanding", "round-robin", "service-time", "queue-affine" };
    /**
     * net keeps a flow on one card with flow-hash; the other spraying selectors are legal too (a
     * network may reorder). Not queue-affine: it would split a queue pair's rx and tx over cards.
     */
    private static final String[] NET_SELECTORS = { "flow-hash", "flow-hash", "round-robin", "least-outstanding" };

    private SeedSweep()
    {
    }

    static SoakConfig config(final String device, final long seed)
    {
        final SplittableRandom rng = new SplittableRandom(seed);
        final SoakConfig c = new SoakConfig();
        c.device = device;
        c.threaded = false;
        c.seed = seed;
        c.cards = 2 + rng.nextInt(7);
        c.mode = rng.nextInt(3) == 0 ? "ap" : "aa";
        final String[] selectors = "net".equals(device) ? NET_SELECTORS : SELECTORS;
        c.selector = c.activePassive() ? null : selectors[rng.nextInt(selectors.length)];
        c.queues = 1 + rng.nextInt(3);
        c.queueDepth = new int[]{ 4, 8, 16, 32 }[rng.nextInt(4)];
        c.packed = rng.nextBoolean();
        c.requests = 150 + rng.nextInt(100);
        c.durationNanos = 0;
        c.readPercent = 20 + rng.nextInt(60);
        c.faults = "none";
        c.latency = rng.nextBoolean() ? "uniform:5us-60us" : "fixed:20us";
        c.failback = rng.nextBoolean() ? Failback.immediate() : Failback.delayed(5 * MS);
        c.quiesceNanos = 20_000 * MS;
        c.sectorsPerQueue = 256;
        return c;
    }

    /** 1..3 faults at random moments of the run, at most cards-1 at once, each healed or rejoined. */
    static FaultSchedule faults(final long seed, final List<FaultTarget> targets, final long horizonNanos)
    {
        final SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 7);
        final FaultSchedule schedule = new FaultSchedule();
        final int count = 1 + rng.nextInt(Math.min(3, targets.size() - 1));
        final List<Integer> cards = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++)
        {
            cards.add(i);
        }
        for (int f = 0; f < count; f++)
        {
            final FaultTarget target = targets.get(cards.remove(rng.nextInt(cards.size())));
            final CardFault fault = FAULTS[rng.nextInt(FAULTS.length)];
            final long at = rng.nextLong(Math.max(1, horizonNanos));
            final long length = 1 + rng.nextLong(Math.max(2, horizonNanos * 3));
            final long param;
            switch (fault)
            {
                case SLOW: param = 2 + rng.nextInt(20); break;
                case ERROR_BURST: param = 1 + rng.nextInt(32); break;
                case LINK_DOWN: param = rng.nextBoolean() ? 0 : 1 + rng.nextLong(horizonNanos); break;
                case ZOMBIE: param = rng.nextLong(1, 40 * MS); break;
                default: param = 0;
            }
            schedule.inject(at, target, fault, param);
            if (fault == CardFault.ZOMBIE || fault == CardFault.HANG || fault == CardFault.FAIL_STOP)
            {
                schedule.rejoin(at + length, target);
            }
            else
            {
                schedule.heal(at + length, target);
            }
        }
        return schedule;
    }

    static SoakResult run(final String device, final long seed)
    {
        final SoakRig rig = new SoakRig(config(device, seed));
        rig.schedule(faults(seed, rig.kind().faultTargets(), rig.horizonNanos()));
        return rig.run();
    }

    /** Runs {@code count} seeds from {@code first}; returns a description of each failure (empty when all held). */
    static List<String> sweep(final String device, final long first, final int count)
    {
        final List<String> failures = new ArrayList<>();
        for (long seed = first; seed < first + count; seed++)
        {
            try
            {
                final SoakResult r = run(device, seed);
                if (!r.invariantsOk())
                {
                    failures.add("seed=" + seed + " " + config(device, seed).describe() + ": " + r.summary());
                }
            }
            catch (final RuntimeException ex)
            {
                failures.add("seed=" + seed + " threw " + ex);
            }
        }
        return failures;
    }
}
