package dev.braid.examples.soak;

import dev.braid.sim.CardFault;
import dev.braid.sim.FaultAction;
import dev.braid.sim.FaultEvent;
import dev.braid.sim.FaultProfile;
import dev.braid.sim.FaultSchedule;
import dev.braid.sim.FaultTarget;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns --faults (none, light, heavy, demo, or a schedule file) into a {@link FaultSchedule} over
 * the run's horizon. none/light/heavy come from {@link FaultSchedule#random}; demo is a fixed
 * rotation that shows each failure mode once in a while: fail-stop, hang, zombie (a hang that turns
 * into late stale completions once the card is fenced), link-down, each ended by a rejoin or heal.
 */
public final class FaultPlan
{
    private FaultPlan()
    {
    }

    /** Checks the value early (a file must exist and parse) so that bad usage fails before running. */
    public static void validate(final String faults, final int cards)
    {
        if (AdversarialSchedules.isAdversarial(faults))
        {
            AdversarialSchedules.family(faults, 0);
            return;
        }
        switch (faults.toLowerCase(Locale.ROOT))
        {
            case "none":
            case "light":
            case "heavy":
            case "demo":
                return;
            default:
                final Path file = Path.of(faults);
                if (!Files.isRegularFile(file))
                {
                    throw new UsageException("--faults must be none, light, heavy, demo, adversarial[:family] or a schedule " +
                        "file: " + faults);
                }
                ScheduleFile.read(file, cards);
        }
    }

    /**
     * --faults for native cards: none, demo (one real fault: the first card fail-stopped, or a TAP
     * set down and up again) or a schedule file whose faults each card can take ({@link NativeTarget}).
     */
    public static void validateNative(final String faults, final List<NativeCards.Spec> specs)
    {
        switch (faults.toLowerCase(Locale.ROOT))
        {
            case "none":
            case "demo":
                return;
            default:
                if (AdversarialSchedules.isAdversarial(faults) || List.of("light", "heavy").contains(faults.toLowerCase(Locale.ROOT)))
                {
                    throw new UsageException("--faults " + faults + " draws simulated faults (hang, slow, zombie, error " +
                        "bursts); native cards take none, demo or a schedule file of fail-stop (and link-down for tap:)");
                }
                final Path file = Path.of(faults);
                if (!Files.isRegularFile(file))
                {
                    throw new UsageException("--faults must be none, demo or a schedule file with native cards: " + faults);
                }
                for (final ScheduleFile.Entry e : ScheduleFile.read(file, specs.size()))
                {
                    if (e.action() == FaultAction.INJECT)
                    {
                        NativeTarget.check(specs.get(e.card()), e.fault(), faults);
                    }
                }
        }
    }

    /**
     * The native demo: with two or more cards, card 0 fails once, a third into the run: a TAP is
     * set down (and up at two thirds), any other card is fail-stopped (it stays dead). One card: none.
     */
    static FaultSchedule nativeDemo(final long horizonNanos, final List<FaultTarget> targets)
    {
        final FaultSchedule schedule = new FaultSchedule();
        if (targets.size() < 2)
        {
            return schedule;
        }
        final NativeTarget first = (NativeTarget)targets.get(0);
        if (first.card() instanceof dev.braid.virtio.card.NetCard)
        {
            schedule.inject(horizonNanos / 3, first, CardFault.LINK_DOWN, 0);
            schedule.heal(2 * horizonNanos / 3, first);
        }
        else
        {
            schedule.inject(horizonNanos / 3, first, CardFault.FAIL_STOP, 0);
        }
        return schedule;
    }

    public static FaultSchedule build(
        final String faults, final long seed, final long horizonNanos, final List<FaultTarget> targets,
        final long completionTimeoutNanos)
    {
        if (AdversarialSchedules.isAdversarial(faults))
        {
            // The rig installs the plan (it has fence-relative parts); see SoakRig.
            return new FaultSchedule();
        }
        switch (faults.toLowerCase(Locale.ROOT))
        {
            case "none":
                return new FaultSchedule();
            case "light":
                return FaultSchedule.random(seed, FaultProfile.LIGHT, horizonNanos, targets);
            case "heavy":
                return FaultSchedule.random(seed, FaultProfile.HEAVY, horizonNanos, targets);
            case "demo":
                if (!targets.isEmpty() && targets.get(0) instanceof NativeTarget)
                {
                    return nativeDemo(horizonNanos, targets);
                }
                return demo(horizonNanos, targets, completionTimeoutNanos);
            default:
                final FaultSchedule schedule = new FaultSchedule();
                for (final ScheduleFile.Entry e : ScheduleFile.read(Path.of(faults), targets.size()))
                {
                    schedule.add(new FaultEvent(e.atNanos(), targets.get(e.card()), e.action(), e.fault(), e.param()));
                }
                return schedule;
        }
    }

    /** A fault every horizon/10 (3 s of a 30 s run), rotating over modes and cards, each lasting half a period. */
    public static FaultSchedule demo(final long horizonNanos, final List<FaultTarget> targets, final long timeoutNanos)
    {
        final FaultSchedule schedule = new FaultSchedule();
        final int n = targets.size();
        final long period = Math.max(1_000_000L, horizonNanos / 10);
        final CardFault[] modes = { CardFault.FAIL_STOP, CardFault.HANG, CardFault.ZOMBIE, CardFault.LINK_DOWN };
        int step = 0;
        for (long t = period; t + period / 2 < horizonNanos; t += period, step++)
        {
            final FaultTarget card = targets.get(step % n);
            final CardFault mode = modes[step % modes.length];
            final long end = t + period / 2;
            if (mode == CardFault.ZOMBIE)
            {
                // Hang until the timeout fences the card, then answer late: every answer is stale.
                schedule.inject(t, card, CardFault.HANG, 0);
                schedule.inject(Math.min(end - 1, t + timeoutNanos * 3), card, CardFault.ZOMBIE, timeoutNanos);
                schedule.rejoin(end, card);
            }
            else if (mode == CardFault.LINK_DOWN)
            {
                schedule.inject(t, card, mode, 0);
                schedule.heal(end, card);
            }
            else
            {
                schedule.inject(t, card, mode, 0);
                schedule.rejoin(end, card);
            }
        }
        return schedule;
    }

    /**
     * Whether all cards were in a failure mode at once at some moment of the schedule (then guest
     * errors are allowed: the all-down deadline may expire).
     */
    public static boolean allDownAtSomePoint(final FaultSchedule schedule, final int cards)
    {
        final List<FaultTarget> seen = new ArrayList<>();
        final boolean[] failed = new boolean[64];
        int down = 0;
        for (final FaultEvent e : schedule.events())
        {
            int i = seen.indexOf(e.target());
            if (i < 0)
            {
                seen.add(e.target());
                i = seen.size() - 1;
            }
            final boolean nowFailed = e.action() == FaultAction.INJECT && e.fault() != CardFault.SLOW;
            if (nowFailed != failed[i])
            {
                failed[i] = nowFailed;
                down += nowFailed ? 1 : -1;
            }
            if (down >= cards)
            {
                return true;
            }
        }
        return false;
    }
}
