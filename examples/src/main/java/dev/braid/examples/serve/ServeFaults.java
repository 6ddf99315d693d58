package dev.braid.examples.serve;

import dev.braid.examples.soak.AdversarialSchedules;
import dev.braid.examples.soak.FaultPlan;
import dev.braid.examples.soak.UsageException;
import dev.braid.ha.HealthConfig;
import dev.braid.sim.CardFault;
import dev.braid.sim.FaultAction;
import dev.braid.sim.FaultEvent;
import dev.braid.sim.FaultSchedule;
import dev.braid.sim.FaultTarget;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code braid serve --faults}: the soak runner's profiles (light, heavy, demo) and schedule files,
 * parsed and checked by {@link FaultPlan}, played on the served device's sim cards (sim disks, sim
 * NICs, sim HBAs: each a {@link FaultTarget}) by the wall clock. Time 0 is the first time a front
 * end starts the device (a guest's driver reaching DRIVER_OK), so that a schedule lands on guest
 * I/O, not on QEMU's boot. Profiles are drawn over {@link #PROFILE_HORIZON_NANOS} from the seed;
 * the schedule plays once. Driven by the serve loop ({@link #poll}), one thread: the cards' fault
 * calls are thread-safe ({@link FaultTarget}).
 */
public final class ServeFaults
{
    /** The span light, heavy and demo draw their faults over. */
    public static final long PROFILE_HORIZON_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final String faults;
    private final List<FaultEvent> events;
    private final Consumer<String> log;
    private long startNanos = -1;
    private int next;
    private int applied;

    private ServeFaults(final String faults, final List<FaultEvent> events, final Consumer<String> log)
    {
        this.faults = faults;
        this.events = events;
        this.log = log;
    }

    /**
     * Checks --faults before anything is opened: one-line {@link UsageException} naming the value.
     *
     * @param simCards  how many sim cards the device has (schedule files name cards 0..simCards-1).
     * @param cardCount all cards of the device; faults apply to sim cards only.
     * @param simSpec   how the device's sim card is spelled, for the message ("sim:SIZE"; net: "sim").
     */
    public static void validate(final String faults, final int simCards, final int cardCount, final String simSpec)
    {
        if (faults == null || "none".equalsIgnoreCase(faults))
        {
            return;
        }
        if (AdversarialSchedules.isAdversarial(faults))
        {
            throw new UsageException("--faults " + faults + ": adversarial plans aim at the soak rig's fences (" +
                "braid serve takes none, light, heavy, demo or a schedule file)");
        }
        if (simCards == 0 || simCards != cardCount)
        {
            throw new UsageException("--faults " + faults + ": faults are played on sim cards only (--card " + simSpec + ")");
        }
        FaultPlan.validate(faults, simCards);
    }

    /** The schedule over the given sim cards (in --card order), from a value {@link #validate} accepted. */
    public static ServeFaults of(final String faults, final long seed, final List<? extends FaultTarget> simCards,
        final Consumer<String> log)
    {
        if (faults == null || "none".equalsIgnoreCase(faults))
        {
            return new ServeFaults("none", List.of(), log);
        }
        final FaultSchedule schedule = FaultPlan.build(faults, seed, PROFILE_HORIZON_NANOS, List.copyOf(simCards),
            new HealthConfig().completionTimeoutNanos());
        return new ServeFaults(faults, schedule.events(), log);
    }

    /** Plays the events that are due; {@code deviceRunning} starts the clock the first time it is true. */
    public void poll(final boolean deviceRunning, final long nowNanos)
    {
        if (startNanos < 0)
        {
            if (!deviceRunning || events.isEmpty())
            {
                return;
            }
            startNanos = nowNanos;
            log.accept("braid serve: --faults " + faults + ": " + events.size() + " event(s) from now");
        }
        while (next < events.size() && events.get(next).atNanos() <= nowNanos - startNanos)
        {
            final FaultEvent e = events.get(next++);
            e.apply();
            applied++;
            log.accept(String.format(Locale.ROOT, "braid serve: fault t=%.3fs %s %s", e.atNanos() / 1e9, e.target().name(),
                label(e)));
        }
    }

    static String label(final FaultEvent e)
    {
        final String name = e.action() == FaultAction.INJECT ? e.fault().name() : e.action().name();
        return name.toLowerCase(Locale.ROOT).replace('_', '-') +
            (e.action() == FaultAction.INJECT && e.fault() != CardFault.FAIL_STOP && e.fault() != CardFault.HANG &&
            e.param() != 0 ? " " + e.param() : "");
    }

    public int applied()
    {
        return applied;
    }

    public int planned()
    {
        return events.size();
    }

    public String spec()
    {
        return faults;
    }
}
