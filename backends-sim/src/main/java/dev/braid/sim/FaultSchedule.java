package dev.braid.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A list of fault events in virtual time, applied by a {@link FaultScheduleAgent}. Built by hand
 * for a scenario, or drawn from a seed with {@link #random}.
 */
public final class FaultSchedule
{
    private final List<FaultEvent> events = new ArrayList<>();

    public FaultSchedule inject(final long atNanos, final FaultTarget target, final CardFault fault, final long param)
    {
        return add(new FaultEvent(atNanos, target, FaultAction.INJECT, fault, param));
    }

    public FaultSchedule heal(final long atNanos, final FaultTarget target)
    {
        return add(new FaultEvent(atNanos, target, FaultAction.HEAL, CardFault.HEALTHY, 0));
    }

    public FaultSchedule rejoin(final long atNanos, final FaultTarget target)
    {
        return add(new FaultEvent(atNanos, target, FaultAction.REJOIN, CardFault.HEALTHY, 0));
    }

    public FaultSchedule add(final FaultEvent event)
    {
        if (event.atNanos() < 0)
        {
            throw new IllegalArgumentException("negative time: " + event);
        }
        events.add(event);
        return this;
    }

    /** The events sorted by time; events at the same time keep the order they were added in. */
    public List<FaultEvent> events()
    {
        final List<FaultEvent> sorted = new ArrayList<>(events);
        sorted.sort(Comparator.comparingLong(FaultEvent::atNanos));
        return Collections.unmodifiableList(sorted);
    }

    public int size()
    {
        return events.size();
    }

    public String toString()
    {
        return events().toString();
    }

    /**
     * Draws a schedule over {@code [0, durationNanos)} from {@code seed}. Every fault is ended by a heal
     * (or a rejoin, for the modes after which an aggregator fences the card) no later than
     * {@code durationNanos}, and at least one card is healthy at any time.
     */
    public static FaultSchedule random(
        final long seed, final FaultProfile profile, final long durationNanos, final List<? extends FaultTarget> targets)
    {
        final FaultSchedule schedule = new FaultSchedule();
        final int n = targets.size();
        if (profile == FaultProfile.NONE || n == 0 || durationNanos <= 0)
        {
            return schedule;
        }
        final SplittableRandom rng = new SplittableRandom(seed);
        final boolean heavy = profile == FaultProfile.HEAVY;
        final int maxConcurrent = heavy ? Math.max(1, n - 1) : 1;
        final double meanGap = heavy ? durationNanos / (8.0 * n) : durationNanos / 4.0;
        final long minLength = Math.max(1, durationNanos / (heavy ? 100 : 50));
        final long maxLength = Math.max(minLength, durationNanos / (heavy ? 5 : 10));
        final long[] busyUntil = new long[n];

        long t = 0;
        while (true)
        {
            t += 1 + (long)(-meanGap * Math.log(1.0 - rng.nextDouble()));
            if (t >= durationNanos)
            {
                break;
            }
            int active = 0;
            int chosen = -1;
            int idleSeen = 0;
            for (int i = 0; i < n; i++)
            {
                if (busyUntil[i] > t)
                {
                    active++;
                }
                else if (rng.nextInt(++idleSeen) == 0)
                {
                    chosen = i;
                }
            }
            if (active >= maxConcurrent || chosen < 0)
            {
                continue;
            }
            final CardFault fault = pickFault(rng, heavy);
            final long param = pickParam(rng, fault, heavy, durationNanos);
            final long end = Math.min(durationNanos, t + rng.nextLong(minLength, maxLength + 1));
            final FaultTarget target = targets.get(chosen);
            schedule.inject(t, target, fault, param);
            if (fault == CardFault.FAIL_STOP || fault == CardFault.HANG || fault == CardFault.ZOMBIE)
            {
                schedule.rejoin(end, target);
            }
            else
            {
                schedule.heal(end, target);
            }
            busyUntil[chosen] = end;
        }
        return schedule;
    }

    private static CardFault pickFault(final SplittableRandom rng, final boolean heavy)
    {
        if (heavy)
        {
            final CardFault[] all = CardFault.values();
            // Every mode but HEALTHY.
            return all[1 + rng.nextInt(all.length - 1)];
        }
        switch (rng.nextInt(5))
        {
            case 0: return CardFault.SLOW;
            case 1: return CardFault.ERROR_BURST;
            case 2: return CardFault.LINK_DOWN;
            case 3: return CardFault.HANG;
            default: return CardFault.FAIL_STOP;
        }
    }

    private static long pickParam(
        final SplittableRandom rng, final CardFault fault, final boolean heavy, final long durationNanos)
    {
        switch (fault)
        {
            case SLOW:
                return rng.nextLong(2, heavy ? 51 : 11);
            case ERROR_BURST:
                return rng.nextLong(1, heavy ? 65 : 9);
            case LINK_DOWN:
                // Sometimes the link comes back on its own before the scheduled heal.
                return heavy && rng.nextBoolean() ? 1 + rng.nextLong(Math.max(1, durationNanos / 20)) : 0;
            case ZOMBIE:
                return rng.nextLong(Math.max(1, durationNanos / 50), Math.max(2, durationNanos / 10));
            default:
                return 0;
        }
    }
}
