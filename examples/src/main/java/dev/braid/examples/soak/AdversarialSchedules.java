package dev.braid.examples.soak;

import dev.braid.ha.Failback;
import dev.braid.ha.HealthConfig;
import dev.braid.sim.CardFault;
import dev.braid.sim.FaultAction;
import dev.braid.sim.FaultSchedule;
import dev.braid.sim.FaultTarget;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Fault schedules that aim at the protocol's edges, where the random profiles never go: zombies
 * released at 0 and at every small delay after a fence (0, 1 ns, 1 us, 10 us ... relative to the
 * completion timeout), hang / zombie / rejoin / fail cycles, faults while a card is probing and
 * while one is drained by a hot remove (and on a hot-added card), every card failing within
 * microseconds, a card exactly as slow as the timeout, and zombie answers that come back after the
 * completion token's 16-bit attempt number has wrapped.
 *
 * <p>A plan is a pure function of the seed and the run's shape: absolute faults, faults relative to
 * the fence the rig observes ({@link SoakRig.FenceTrigger}) and hot add/remove steps. {@code
 * --faults adversarial} picks the family from the seed; {@code --faults adversarial:<family>}
 * forces it. The CLI prints the seed; {@code --seed} replays.
 *
 * <p>The zombie is armed the way each simulated card understands it: a SimDisk (blk) serves on as
 * a ZOMBIE, so it hangs first and turns zombie right at its fence (its held requests then answer
 * {@code delay} after); a SimHba or SimNic (scsi, net) stops completing as a ZOMBIE and answers
 * {@code delay} after the fence.
 */
public final class AdversarialSchedules
{
    public enum Family
    {
        ZOMBIE_AFTER_FENCE, CYCLES, PROBING, DRAIN, ALL_FAIL, SLOW_AS_TIMEOUT, WRAP;

        public String cliName()
        {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** The families the short sweep draws from (WRAP needs > 65,536 uses of a head: a long run). */
    public static final int SHORT_FAMILIES = 6;

    /** One generated plan. */
    public record Plan(Family family, String description, FaultSchedule schedule, List<SoakRig.FenceTrigger> triggers,
        List<Step> steps)
    {
    }

    /** A hot add ({@code card} -1) or remove at a run time. */
    public record Step(long atNanos, int card)
    {
    }

    private AdversarialSchedules()
    {
    }

    /** Whether {@code faults} names an adversarial plan. */
    public static boolean isAdversarial(final String faults)
    {
        final String f = faults.toLowerCase(Locale.ROOT);
        return f.equals("adversarial") || f.startsWith("adversarial:");
    }

    /** The family {@code faults} forces, or the one {@code seed} picks. */
    public static Family family(final String faults, final long seed)
    {
        final String f = faults.toLowerCase(Locale.ROOT);
        if (f.startsWith("adversarial:"))
        {
            final String name = f.substring("adversarial:".length());
            for (final Family family : Family.values())
            {
                if (family.cliName().equals(name))
                {
                    return family;
                }
            }
            final List<String> names = new ArrayList<>();
            for (final Family family : Family.values())
            {
                names.add(family.cliName());
            }
            throw new UsageException("--faults adversarial:<family>, family one of " + String.join(", ", names) + ": " + name);
        }
        return Family.values()[(int)Math.floorMod(seed, (long)Family.values().length)];
    }

    /** The small delays after a fence that zombies are released at. */
    static long[] fenceDelays(final long timeout)
    {
        return new long[]{ 0, 1, 1_000, 10_000, 100_000, 1_000_000, timeout / 2, timeout - 1, timeout, timeout + 1,
            2 * timeout };
    }

    /** Builds the plan for {@code family} over the rig's cards. */
    public static Plan build(final Family family, final long seed, final SoakConfig config, final List<FaultTarget> targets,
        final long horizonNanos)
    {
        return new Builder(family, seed, config, targets, horizonNanos).build();
    }

    /** Builds the plan {@code config.faults} names and installs it on the rig (schedule, triggers, steps). */
    public static Plan install(final SoakRig rig)
    {
        final SoakConfig c = rig.config();
        final Plan plan = build(family(c.faults, c.seed), c.seed, c, rig.kind().faultTargets(), rig.horizonNanos());
        rig.schedule(plan.schedule());
        for (final SoakRig.FenceTrigger t : plan.triggers())
        {
            rig.onFence(t);
        }
        for (final Step s : plan.steps())
        {
            if (s.card() < 0)
            {
                rig.at(s.atNanos(), "hot-add", SoakRig::hotAddCard);
            }
            else
            {
                final int card = s.card();
                rig.at(s.atNanos(), "hot-remove card " + card, x -> x.hotRemove(card));
            }
        }
        return plan;
    }

    /**
     * A short deterministic run shaped for plan {@code seed} of the sweep: 2..4 cards, a scaled-down
     * health config (1 ms completion timeout) so that a run of a dozen timeouts is a few hundred
     * requests, and for {@link Family#SLOW_AS_TIMEOUT} a timeout of exactly k x latency, minus 1 ns,
     * or plus 1 ns.
     */
    public static SoakConfig shape(final String device, final String mode, final long seed)
    {
        final SplittableRandom rng = new SplittableRandom(seed * 0xD1B54A32D192ED03L + device.hashCode() * 31L + mode.hashCode());
        final Family family = Family.values()[(int)Math.floorMod(seed, (long)SHORT_FAMILIES)];
        final SoakConfig c = new SoakConfig();
        c.device = device;
        c.mode = mode;
        c.threaded = false;
        c.seed = seed;
        c.faults = "adversarial:" + family.cliName();
        c.cards = 2 + rng.nextInt("ap".equals(mode) ? 2 : 3);
        c.queues = "net".equals(device) ? 1 : 1 + rng.nextInt(2);
        c.queueDepth = new int[]{ 4, 4, 8, 16 }[rng.nextInt(4)];
        c.packed = rng.nextBoolean();
        if (!"ap".equals(mode))
        {
            final String[] selectors = "net".equals(device) ? new String[]{ "flow-hash", "round-robin", "least-outstanding" } :
                new String[]{ "least-outstanding", "round-robin", "queue-affine", "service-time" };
            c.selector = selectors[rng.nextInt(selectors.length)];
        }
        final long latency = 100_000;
        c.latency = family == Family.SLOW_AS_TIMEOUT || rng.nextBoolean() ? "fixed:100us" : "uniform:40us-160us";
        long timeout = 1_000_000;
        if (family == Family.SLOW_AS_TIMEOUT)
        {
            timeout = 10 * latency + (rng.nextInt(3) - 1);
        }
        c.health = new HealthConfig().completionTimeoutNanos(timeout).minDownNanos(500_000).maxDownNanos(20_000_000)
            .probeIntervalNanos(250_000).stableNanos(2_000_000).errorWindowNanos(10_000_000);
        c.failback = rng.nextBoolean() ? Failback.immediate() : Failback.delayed(1_000_000);
        c.durationNanos = 10 * timeout;
        c.requests = 0;
        c.readPercent = 30 + rng.nextInt(40);
        c.sectorsPerQueue = 128;
        c.quiesceNanos = 2_000_000_000L;
        return c;
    }

    /** The long shape of reproduction 2: queue depth 3, fixed 10 us, 1.25 s, ap over 2 cards. */
    public static SoakConfig wrapShape(final String device, final long seed)
    {
        final SoakConfig c = new SoakConfig();
        c.device = device;
        c.mode = "ap";
        c.threaded = false;
        c.seed = seed;
        c.faults = "adversarial:wrap";
        c.cards = 2;
        c.queues = 1;
        c.queueDepth = 3;
        c.latency = "fixed:10us";
        c.durationNanos = 1_250_000_000L;
        c.health = SoakConfig.defaultHealth();
        return c;
    }

    private static final class Builder
    {
        private final Family family;
        private final long seed;
        private final SoakConfig config;
        private final List<FaultTarget> targets;
        private final long horizon;
        private final SplittableRandom rng;
        private final long timeout;
        private final long latency;
        private final boolean diskZombie;
        private final FaultSchedule schedule = new FaultSchedule();
        private final List<SoakRig.FenceTrigger> triggers = new ArrayList<>();
        private final List<Step> steps = new ArrayList<>();
        private final StringBuilder text = new StringBuilder();

        Builder(final Family family, final long seed, final SoakConfig config, final List<FaultTarget> targets,
            final long horizon)
        {
            this.family = family;
            this.seed = seed;
            this.config = config;
            this.targets = targets;
            this.horizon = Math.max(horizon, 1);
            this.rng = new SplittableRandom(seed ^ 0xADE5A91EL * (family.ordinal() + 1));
            this.timeout = config.health.completionTimeoutNanos();
            this.latency = Math.max(1, Specs.meanLatencyNanos(config.latency));
            this.diskZombie = "blk".equals(config.device);
        }

        private long pick(final long... values)
        {
            return values[rng.nextInt(values.length)];
        }

        private long delay()
        {
            // Zero (an answer in the same instant as the fence) a third of the time: the sharpest edge.
            final long[] d = fenceDelays(timeout);
            return rng.nextInt(3) == 0 ? 0 : d[rng.nextInt(d.length)];
        }

        private void note(final String s)
        {
            text.append(text.length() == 0 ? "" : "; ").append(s);
        }

        private void inject(final long at, final int card, final CardFault fault, final long param)
        {
            schedule.inject(Math.max(0, at), targets.get(card), fault, param);
        }

        private void rejoin(final long at, final int card)
        {
            schedule.rejoin(Math.max(0, at), targets.get(card));
        }

        private void onFence(final int card, final long after, final long delay, final FaultAction action,
            final CardFault fault, final long param)
        {
            triggers.add(new SoakRig.FenceTrigger(card, after, delay, action, fault, param));
        }

        /**
         * From {@code at}, card {@code card} stops answering and is a zombie once fenced: its
         * held requests answer {@code delay} after the fence; {@code rejoinAfter} after the fence
         * plus that delay (may be negative: a rejoin before the late answers) it rejoins.
         */
        private void zombie(final int card, final long at, final long delay, final long rejoinAfter)
        {
            if (diskZombie)
            {
                inject(at, card, CardFault.HANG, 0);
                onFence(card, at, 0, FaultAction.INJECT, CardFault.ZOMBIE, delay);
            }
            else
            {
                inject(at, card, CardFault.ZOMBIE, delay);
            }
            onFence(card, at, Math.max(0, delay + rejoinAfter), FaultAction.REJOIN, CardFault.HEALTHY, 0);
            note("card " + card + " zombie at " + Specs.nanos(at) + " answering " + delay + "ns after its fence, rejoin " +
                rejoinAfter + "ns after that");
        }

        Plan build()
        {
            final int n = targets.size();
            // In ap the first card carries the load: aim there most of the time.
            final int card = config.activePassive() && rng.nextInt(4) != 0 ? 0 : rng.nextInt(n);
            switch (family)
            {
                case ZOMBIE_AFTER_FENCE:
                {
                    final long at = rng.nextLong(timeout / 10, Math.max(timeout / 10 + 1, horizon / 3));
                    final long delay = delay();
                    zombie(card, at, delay, delay > 0 && rng.nextInt(4) == 0 ? -1 : pick(0, 1, 1_000, timeout));
                    if (rng.nextBoolean())
                    {
                        // A second zombie on another card (or the same one again) a little later.
                        final int other = rng.nextInt(n);
                        zombie(other, at + 3 * timeout + rng.nextLong(timeout), delay(), pick(0, 1, timeout));
                    }
                    break;
                }
                case CYCLES:
                {
                    long at = rng.nextLong(timeout / 10, timeout);
                    final int cycles = 2 + rng.nextInt(3);
                    for (int i = 0; i < cycles && at < horizon; i++)
                    {
                        final long delay = delay();
                        final long rejoinAfter = pick(0, 1, 1_000, timeout / 4);
                        zombie(card, at, delay, rejoinAfter);
                        // Fail again soon after the rejoin: while probing, or just after coming up.
                        final long failAfter = delay + rejoinAfter + pick(0, 1, 1_000, config.health.probeIntervalNanos(),
                            config.health.minDownNanos() + 1, 3 * timeout);
                        final CardFault again = rng.nextBoolean() ? CardFault.FAIL_STOP : CardFault.HANG;
                        onFence(card, at, failAfter, FaultAction.INJECT, again, 0);
                        onFence(card, at, failAfter + pick(1_000, timeout / 2, 2 * timeout), FaultAction.REJOIN,
                            CardFault.HEALTHY, 0);
                        note("then " + again.name().toLowerCase(Locale.ROOT) + " " + failAfter + "ns after that fence");
                        at += 4 * timeout + delay + rng.nextLong(timeout);
                    }
                    break;
                }
                case PROBING:
                {
                    final long at = rng.nextLong(timeout / 10, Math.max(timeout / 10 + 1, horizon / 4));
                    inject(at, card, CardFault.FAIL_STOP, 0);
                    final long back = at + pick(config.health.minDownNanos() - 1, config.health.minDownNanos(),
                        config.health.minDownNanos() + 1, timeout, 2 * timeout);
                    rejoin(back, card);
                    final long probe = config.health.probeIntervalNanos();
                    final long hit = back + rng.nextInt(config.health.upAfterProbes() + 2) * probe +
                        pick(-1, 0, 1, 1_000, latency, probe / 2);
                    final CardFault[] faults = { CardFault.HANG, CardFault.ZOMBIE, CardFault.ERROR_BURST,
                        CardFault.LINK_DOWN, CardFault.FAIL_STOP, CardFault.SLOW };
                    final CardFault fault = faults[rng.nextInt(faults.length)];
                    final long param = switch (fault)
                    {
                        case ZOMBIE -> delay();
                        case ERROR_BURST -> 1 + rng.nextInt(4);
                        case LINK_DOWN -> pick(0, 1, 1_000, probe);
                        case SLOW -> Math.max(2, timeout / latency + pick(-1, 0, 1));
                        default -> 0;
                    };
                    if (fault == CardFault.ZOMBIE && diskZombie)
                    {
                        zombie(card, hit, param, 0);
                    }
                    else
                    {
                        inject(hit, card, fault, param);
                        final long end = hit + pick(1, 1_000, timeout, 3 * timeout);
                        if (fault == CardFault.LINK_DOWN || fault == CardFault.SLOW || fault == CardFault.ERROR_BURST)
                        {
                            schedule.heal(end, targets.get(card));
                        }
                        else
                        {
                            rejoin(end + (fault == CardFault.ZOMBIE ? param + timeout : 0), card);
                        }
                    }
                    note("card " + card + " fail-stop at " + Specs.nanos(at) + ", rejoin at " + Specs.nanos(back) + ", " +
                        fault.name().toLowerCase(Locale.ROOT) + "(" + param + ") at " + Specs.nanos(hit) + " while probing");
                    break;
                }
                case DRAIN:
                {
                    final long at = rng.nextLong(timeout / 10, Math.max(timeout / 10 + 1, horizon / 3));
                    if (n < 2)
                    {
                        zombie(card, at, delay(), 0);
                        break;
                    }
                    // The card is in trouble (or not) when it is removed: its held requests drain
                    // while it answers late or never.
                    final int mode = rng.nextInt(4);
                    final long removeAt = at + pick(0, 1, 1_000, timeout / 2, timeout - 1, timeout, timeout + 1);
                    if (mode == 0)
                    {
                        zombie(card, at, delay(), timeout);
                    }
                    else if (mode == 1)
                    {
                        inject(at, card, CardFault.HANG, 0);
                        rejoin(removeAt + timeout, card);
                    }
                    else if (mode == 2)
                    {
                        inject(at, card, CardFault.SLOW, Math.max(2, timeout / latency));
                        schedule.heal(removeAt + timeout, targets.get(card));
                    }
                    steps.add(new Step(removeAt, card));
                    final long addAt = removeAt + pick(0, 1, 1_000, timeout);
                    steps.add(new Step(addAt, -1));
                    note("card " + card + (mode == 0 ? " zombie" : mode == 1 ? " hang" : mode == 2 ? " slow" : "") +
                        " from " + Specs.nanos(at) + ", hot-removed at " + Specs.nanos(removeAt) + ", a card hot-added at " +
                        Specs.nanos(addAt));
                    break;
                }
                case ALL_FAIL:
                {
                    final long at = rng.nextLong(timeout / 10, Math.max(timeout / 10 + 1, horizon / 3));
                    final long spread = pick(0, 1, 1_000, 10_000);
                    final CardFault[] faults = { CardFault.FAIL_STOP, CardFault.HANG, CardFault.ZOMBIE, CardFault.LINK_DOWN };
                    for (int k = 0; k < n; k++)
                    {
                        final long t = at + k * spread;
                        final CardFault fault = faults[rng.nextInt(faults.length)];
                        final long back = pick(timeout / 2, timeout, 2 * timeout, 4 * timeout) + rng.nextLong(1_000);
                        if (fault == CardFault.ZOMBIE)
                        {
                            zombie(k, t, delay(), back);
                        }
                        else
                        {
                            inject(t, k, fault, 0);
                            if (fault == CardFault.LINK_DOWN)
                            {
                                schedule.heal(t + back, targets.get(k));
                            }
                            else
                            {
                                rejoin(t + back, k);
                            }
                            note("card " + k + " " + fault.name().toLowerCase(Locale.ROOT) + " at " + Specs.nanos(t) +
                                " back after " + Specs.nanos(back));
                        }
                    }
                    break;
                }
                case SLOW_AS_TIMEOUT:
                {
                    long at = rng.nextLong(timeout / 10, timeout);
                    final int rounds = 1 + rng.nextInt(3);
                    for (int i = 0; i < rounds && at < horizon; i++)
                    {
                        // k x latency = the timeout (or one latency step either side).
                        final long k = Math.max(2, timeout / latency + pick(0, 0, -1, 1));
                        inject(at, card, CardFault.SLOW, k);
                        final long zombieAt = at + pick(1, timeout / 2, timeout - 1, timeout, timeout + 1);
                        final boolean zombie = rng.nextBoolean();
                        if (zombie)
                        {
                            inject(zombieAt, card, CardFault.ZOMBIE, pick(0, 1, 1_000));
                        }
                        final long end = at + 3 * timeout + rng.nextLong(timeout);
                        rejoin(end, card);
                        note("card " + card + " slow x" + k + " (" + Specs.nanos(k * latency) + " vs timeout " +
                            timeout + "ns) at " + Specs.nanos(at) + (zombie ? ", zombie at " + Specs.nanos(zombieAt) : "") +
                            ", rejoin at " + Specs.nanos(end));
                        at = end + rng.nextLong(timeout / 10, timeout);
                    }
                    break;
                }
                case WRAP:
                default:
                {
                    // Reproduction 2 answered 1159 ms late at depth 3 and 10 us; scale it to this
                    // run's latency and step around it a quarter latency at a time.
                    final long base = Math.round(1_159_000_000.0 * latency / 10_000.0);
                    final long[] steps = { 0, -1, 1, -2, 2, -3, 3, -4, 4 };
                    final long delay = base + steps[(int)Math.floorMod(seed - 1, 9L)] * (latency / 4);
                    final double scale = timeout / 20_000_000.0;
                    final long armAt = Math.max(1, Math.round(1_000_000.0 * scale));
                    if (diskZombie)
                    {
                        // Reproduction 2: hang at 1 ms, zombie at 50.2839 ms (after the fence).
                        inject(armAt, 0, CardFault.HANG, 0);
                        inject(Math.round(50_283_900.0 * scale), 0, CardFault.ZOMBIE, delay);
                    }
                    else
                    {
                        inject(armAt, 0, CardFault.ZOMBIE, delay);
                    }
                    note("card 0 hung at " + Specs.nanos(armAt) + ", answers " + Specs.nanos(delay) +
                        " after its fence: past the 16-bit attempt wrap of a depth-" + config.queueDepth + " queue");
                    break;
                }
            }
            return new Plan(family, family.cliName() + " (seed " + seed + "): " + text, schedule, List.copyOf(triggers),
                List.copyOf(steps));
        }
    }
}
