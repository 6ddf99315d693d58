package dev.braid.examples.soak;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.FailoverTracker;
import dev.braid.aggregator.FrontQueue;
import dev.braid.aggregator.QueueStats;
import dev.braid.ha.FailoverLog;
import dev.braid.ha.HealthState;
import dev.braid.sim.CardFault;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.FaultAction;
import dev.braid.sim.FaultEvent;
import dev.braid.sim.FaultSchedule;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Runs one aggregated device of any {@link DeviceKind} under a fault plan and checks the
 * invariants: the soak runner, the fault scenarios and the seed sweeps all use it.
 *
 * <p>Deterministic mode runs every agent on the calling thread under a {@link DeterministicScheduler}
 * in virtual time: a seed replays exactly. Threaded mode runs the device on {@link AgentThreads}
 * (two threads) and the guests on a third, and applies faults by the wall clock.
 *
 * <p>At the end the rig quiesces: the guests stop posting, and the rig waits (bounded by
 * {@link SoakConfig#quiesceNanos}) until the guests, the front queues and the cards hold nothing.
 * Whatever is still owed then is reported lost or leaked.
 */
public final class SoakRig
{
    private static final long HEARTBEAT_NANOS = 100_000;
    private static final long PROGRESS_WALL_NANOS = 250_000_000L;

    private final SoakConfig config;
    private final DeviceKind deviceKind;
    private final NanoClock clock;
    private final VirtualClock virtualClock;
    private final KindRig kind;
    private final List<Agent> lateAgents = new ArrayList<>();
    private final AtomicReference<Consumer<Agent>> agentSink = new AtomicReference<>(lateAgents::add);
    private final List<Action> actions = new ArrayList<>();
    private final long horizonNanos;
    private FaultSchedule schedule;
    private final AdversarialSchedules.Plan plan;
    private Progress progress = Progress.NONE;

    private long start;
    private List<FaultEvent> events;
    private int nextEvent;
    private int nextAction;
    private final List<FaultMark> marks = new ArrayList<>();
    private final List<Transition> transitions = new ArrayList<>();
    private final List<Failover> failovers = new ArrayList<>();
    private long logSeq;
    private long[] faultAt;
    private long[] lastFence;
    private int[] openFailover;
    private final FailoverLog.Entry entry = new FailoverLog.Entry();

    /**
     * A fault to apply {@code delayNanos} after the first fence of card {@code card} at or after
     * {@code afterNanos} (run time) that the rig observes; fires once. Schedules that aim at the
     * protocol's edges use it: a fence's moment depends on the run, not only on the schedule.
     */
    public record FenceTrigger(int card, long afterNanos, long delayNanos, FaultAction action, CardFault fault, long param)
    {
    }

    private final List<FenceTrigger> fenceTriggers = new ArrayList<>();
    private final List<FaultEvent> fenceEvents = new ArrayList<>();
    private int nextFenceEvent;
    private final java.util.Set<FenceTrigger> firedTriggers = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    /** A scenario step at a time since the start of the run. */
    private record Action(long atNanos, String label, Consumer<SoakRig> body)
    {
    }

    public SoakRig(final SoakConfig config)
    {
        this.config = config.validate();
        this.deviceKind = DeviceKinds.of(config.device);
        if (config.threaded)
        {
            virtualClock = null;
            clock = SystemNanoClock.INSTANCE;
        }
        else
        {
            virtualClock = new VirtualClock();
            clock = virtualClock;
        }
        kind = deviceKind.build(config, clock, agent -> agentSink.get().accept(agent));
        horizonNanos = config.durationNanos > 0 ? config.durationNanos : estimateNanos(config);
        schedule = FaultPlan.build(config.faults, config.seed ^ 0x5DEECE66DL, horizonNanos, kind.faultTargets(),
            config.health.completionTimeoutNanos());
        plan = AdversarialSchedules.isAdversarial(config.faults) ? AdversarialSchedules.install(this) : null;
    }

    /** The adversarial plan installed for --faults adversarial, or null. */
    public AdversarialSchedules.Plan plan()
    {
        return plan;
    }

    /** How long a request-bounded run should take with no faults: the horizon random faults fall in. */
    static long estimateNanos(final SoakConfig config)
    {
        final long perRequest = Specs.meanLatencyNanos(config.latency);
        final long parallel = (long)config.queues * Math.min(config.queueDepth, 64L * config.cards);
        return Math.max(200_000L, config.requests * perRequest / Math.max(1, parallel) * 2);
    }

    public SoakConfig config()
    {
        return config;
    }

    public KindRig kind()
    {
        return kind;
    }

    public AggregatedDevice device()
    {
        return kind.device();
    }

    /** The fault horizon: the duration, or an estimate of a request-bounded run's length. */
    public long horizonNanos()
    {
        return horizonNanos;
    }

    public FaultSchedule schedule()
    {
        return schedule;
    }

    /** Replaces the fault plan (scenarios script their own). */
    public SoakRig schedule(final FaultSchedule schedule)
    {
        this.schedule = schedule;
        return this;
    }

    /** Applies a fault relative to a fence of a card (see {@link FenceTrigger}). */
    public SoakRig onFence(final FenceTrigger trigger)
    {
        fenceTriggers.add(trigger);
        return this;
    }

    /** Fence-relative faults applied so far (for tests of the schedules themselves). */
    public int fenceTriggersFired()
    {
        return fenceEvents.size();
    }

    /** Runs {@code body} on the driving thread at {@code atNanos} since the start. */
    public SoakRig at(final long atNanos, final String label, final Consumer<SoakRig> body)
    {
        actions.add(new Action(atNanos, label, body));
        actions.sort(Comparator.comparingLong(Action::atNanos));
        return this;
    }

    public SoakRig progress(final Progress progress)
    {
        this.progress = progress;
        return this;
    }

    /** Nanos since the start of the run on the run's clock. */
    public long now()
    {
        return clock.nanoTime() - start;
    }

    public void hotAddCard()
    {
        final int index = kind.hotAddCard();
        marks.add(new FaultMark(now(), index, "hot-add"));
    }

    public void hotRemove(final int card)
    {
        kind.device().hotRemove(card);
        marks.add(new FaultMark(now(), card, "hot-remove"));
    }

    public SoakResult run()
    {
        final long wallStart = System.nanoTime();
        events = schedule.events();
        final int maxCards = kind.device().maxCards();
        faultAt = new long[maxCards];
        lastFence = new long[maxCards];
        openFailover = new int[maxCards];
        java.util.Arrays.fill(faultAt, -1);
        java.util.Arrays.fill(openFailover, -1);
        final long epochStart = kind.device().currentMap().epoch();
        final SoakResult result;
        try
        {
            result = config.threaded ? runThreaded() : runDeterministic();
        }
        finally
        {
            kind.close();
        }
        result.wallNanos = System.nanoTime() - wallStart;
        result.epochStart = epochStart;
        result.epochEnd = kind.device().currentMap().epoch();
        return result;
    }

    // ------------------------------------------------------------------ deterministic

    private SoakResult runDeterministic()
    {
        final DeterministicScheduler scheduler = new DeterministicScheduler(config.seed, virtualClock);
        for (final Agent agent : kind.deviceAgents())
        {
            scheduler.addAgent(agent);
        }
        for (final Agent agent : kind.guests())
        {
            scheduler.addAgent(agent);
        }
        for (final TimerSource source : kind.timerSources())
        {
            scheduler.addTimerSource(source);
        }
        agentSink.set(scheduler::addAgent);
        final TimerSource heartbeat = () -> virtualClock.nanoTime() + HEARTBEAT_NANOS;
        scheduler.addTimerSource(heartbeat);
        scheduler.addTimerSource(() -> start + nextPlannedNanos());
        start = virtualClock.nanoTime();

        final Sampler sampler = new Sampler(intervalNanos());
        final ProgressTicker ticker = new ProgressTicker();
        while (!runDone())
        {
            scheduler.runRound();
            afterStep(sampler);
            if ((scheduler.rounds() & 255) == 0)
            {
                ticker.tick();
            }
        }
        final long runNanos = now();
        for (final GuestQueue q : kind.guestQueues())
        {
            q.stopPosting();
        }
        final long quiesceStart = now();
        final long quiesceLimit = quiesceStart + config.quiesceNanos;
        while (!drained() && now() < quiesceLimit)
        {
            scheduler.runRound();
            afterStep(sampler);
        }
        final SoakResult result = finish(runNanos, now() - quiesceStart, sampler);
        scheduler.close();
        return result;
    }

    private long nextPlannedNanos()
    {
        long next = TimerSource.NONE - Math.max(0, start);
        if (events != null && nextEvent < events.size())
        {
            next = Math.min(next, events.get(nextEvent).atNanos());
        }
        if (nextAction < actions.size())
        {
            next = Math.min(next, actions.get(nextAction).atNanos());
        }
        if (nextFenceEvent < fenceEvents.size())
        {
            next = Math.min(next, fenceEvents.get(nextFenceEvent).atNanos());
        }
        return next;
    }

    // ------------------------------------------------------------------ threaded

    private SoakResult runThreaded()
    {
        final AtomicReference<Throwable> guestFailure = new AtomicReference<>();
        final AgentThreads threads = AgentThreads.start(kind.deviceAgents(), 2, AgentThreads.backoff());
        for (final Agent late : lateAgents)
        {
            threads.add(late);
        }
        agentSink.set(threads::add);
        final AgentRunner guestRunner = new AgentRunner(new BackoffIdleStrategy(100, 10, 1_000, 100_000),
            t -> guestFailure.compareAndSet(null, t), null, new CompositeAgent(kind.guests()));
        start = clock.nanoTime();
        AgentRunner.startOnThread(guestRunner);
        final Sampler sampler = new Sampler(intervalNanos());
        long runNanos;
        long quiesceTook;
        try
        {
            final ProgressTicker ticker = new ProgressTicker();
            while (!runDone() && threads.failure() == null && guestFailure.get() == null)
            {
                sleepQuietly();
                afterStep(sampler);
                ticker.tick();
            }
            runNanos = now();
            for (final GuestQueue q : kind.guestQueues())
            {
                q.stopPosting();
            }
            final long quiesceStart = now();
            final long quiesceLimit = quiesceStart + config.quiesceNanos;
            while (!drained() && now() < quiesceLimit && threads.failure() == null)
            {
                sleepQuietly();
                afterStep(sampler);
            }
            quiesceTook = now() - quiesceStart;
        }
        finally
        {
            guestRunner.close();
            threads.close();
        }
        final SoakResult result = finish(runNanos, quiesceTook, sampler);
        final Throwable failure = threads.failure() != null ? threads.failure() : guestFailure.get();
        if (failure != null)
        {
            result.agentFailure = failure.toString();
            failure.printStackTrace();
        }
        return result;
    }

    private static void sleepQuietly()
    {
        try
        {
            Thread.sleep(1);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ shared

    private long intervalNanos()
    {
        if (config.intervalNanos > 0)
        {
            return config.intervalNanos;
        }
        return Math.max(config.threaded ? 50_000_000L : 10_000L, horizonNanos / 120);
    }

    private boolean runDone()
    {
        if (config.requests > 0)
        {
            return completed() >= config.requests && kind.outstanding() == 0;
        }
        return now() >= config.durationNanos;
    }

    private boolean drained()
    {
        if (kind.outstanding() != 0)
        {
            return false;
        }
        return frontLeaks() == 0 && cardLeaks() == 0;
    }

    /** Requests the front queues still hold on queues that must drain (not a net rx queue's buffers). */
    private long frontLeaks()
    {
        long n = 0;
        for (int g = 0; g < kind.device().guestQueueCount(); g++)
        {
            if (kind.drains(g))
            {
                n += kind.device().frontQueue(g).inFlight();
            }
        }
        return n;
    }

    /** Requests cards still hold, ignoring cards left dead or hung by the plan (they never answer). */
    private long cardLeaks()
    {
        long n = 0;
        final List<FaultTarget> targets = kind.faultTargets();
        for (int c = 0; c < targets.size(); c++)
        {
            final FaultTarget t = targets.get(c);
            if (t != null && t.fault() != CardFault.FAIL_STOP && t.fault() != CardFault.HANG)
            {
                n += kind.cardInFlight(c);
            }
        }
        return n;
    }

    private long completed()
    {
        long n = 0;
        for (final GuestQueue q : kind.guestQueues())
        {
            n += q.completed();
        }
        return n;
    }

    private long inFlight()
    {
        long n = 0;
        for (int g = 0; g < kind.device().guestQueueCount(); g++)
        {
            n += kind.device().frontQueue(g).inFlight();
        }
        return n;
    }

    private void report(final long t, final double iops)
    {
        progress.update(t, config.requests > 0 ? 0 : config.durationNanos, iops, inFlight(), failovers.size(),
            cardStates(kind.device()));
    }

    /** Puts the progress line out once per {@link #PROGRESS_WALL_NANOS} of wall time, with the rate since the last. */
    private final class ProgressTicker
    {
        private long next = System.nanoTime() + PROGRESS_WALL_NANOS;
        private long lastRun;
        private long lastCompleted;

        void tick()
        {
            if (System.nanoTime() >= next)
            {
                next = System.nanoTime() + PROGRESS_WALL_NANOS;
                final long t = now();
                final long done = completed();
                report(t, (done - lastCompleted) * 1e9 / Math.max(1, t - lastRun));
                lastRun = t;
                lastCompleted = done;
            }
        }
    }

    public static String cardStates(final AggregatedDevice device)
    {
        final StringBuilder sb = new StringBuilder();
        int last = 0;
        for (int c = 0; c < device.maxCards(); c++)
        {
            if (device.port(c) != null)
            {
                last = c;
            }
        }
        for (int c = 0; c <= last; c++)
        {
            final HealthState h = device.port(c) == null ? null : device.health(c);
            sb.append(h == null ? '-' : h.name().charAt(0));
        }
        return sb.toString();
    }

    private void afterStep(final Sampler sampler)
    {
        final long t = now();
        while (events != null && nextEvent < events.size() && events.get(nextEvent).atNanos() <= t)
        {
            apply(events.get(nextEvent++), t);
        }
        while (nextAction < actions.size() && actions.get(nextAction).atNanos() <= t)
        {
            final Action action = actions.get(nextAction++);
            marks.add(new FaultMark(t, -1, action.label()));
            action.body().accept(this);
        }
        watch(t);
        while (nextFenceEvent < fenceEvents.size() && fenceEvents.get(nextFenceEvent).atNanos() <= t)
        {
            apply(fenceEvents.get(nextFenceEvent++), t);
        }
        sampler.sample(t);
    }

    private void fenced(final int card, final long atNanos)
    {
        final List<FaultTarget> targets = kind.faultTargets();
        if (card >= targets.size() || targets.get(card) == null)
        {
            return;
        }
        for (final FenceTrigger f : fenceTriggers)
        {
            if (f.card() == card && atNanos >= f.afterNanos() && !firedTriggers.contains(f))
            {
                firedTriggers.add(f);
                final FaultEvent e = new FaultEvent(Math.max(0, atNanos) + f.delayNanos(), targets.get(card), f.action(),
                    f.fault(), f.param());
                int i = fenceEvents.size();
                while (i > nextFenceEvent && fenceEvents.get(i - 1).atNanos() > e.atNanos())
                {
                    i--;
                }
                fenceEvents.add(i, e);
            }
        }
    }

    private void apply(final FaultEvent event, final long t)
    {
        final int card = kind.faultTargets().indexOf(event.target());
        final boolean failure = event.action() == FaultAction.INJECT && event.fault() != CardFault.SLOW;
        if (card >= 0)
        {
            if (failure && faultAt[card] < 0)
            {
                faultAt[card] = t;
            }
            else if (!failure)
            {
                faultAt[card] = -1;
            }
        }
        event.apply();
        marks.add(new FaultMark(t, card, event.action() == FaultAction.INJECT ?
            event.fault().name().toLowerCase().replace('_', '-') : event.action().name().toLowerCase()));
    }

    /** Reads new failover-log entries and the device's stall measurements. */
    private void watch(final long t)
    {
        final AggregatedDevice device = kind.device();
        final FailoverLog log = device.failoverLog();
        final long appended = log.appended();
        if (logSeq < appended - log.capacity())
        {
            logSeq = appended - log.capacity();
        }
        while (logSeq < appended)
        {
            if (log.read(logSeq, entry))
            {
                final long at = entry.timeNanos() - start;
                transitions.add(new Transition(at, entry.card(), entry.from(), entry.to(), entry.reason(), entry.epoch()));
                if (entry.to() == HealthState.DOWN && entry.from() != HealthState.DOWN && entry.card() < faultAt.length)
                {
                    openFailover[entry.card()] = failovers.size();
                    failovers.add(new Failover(entry.card(), entry.reason(), faultAt[entry.card()], at, -1));
                }
            }
            logSeq++;
        }
        final FailoverTracker tracker = device.failovers();
        for (int c = 0; c < openFailover.length; c++)
        {
            final long fenced = tracker.fencedAtNanos(c);
            if (fenced != lastFence[c])
            {
                lastFence[c] = fenced;
                if (fenced != 0)
                {
                    fenced(c, fenced - start);
                }
            }
            final int open = openFailover[c];
            if (open >= 0 && fenced != 0)
            {
                final long stall = tracker.lastStallNanos(c);
                if (stall >= 0)
                {
                    final Failover f = failovers.get(open);
                    failovers.set(open, new Failover(f.card(), f.reason(), f.faultAtNanos(), f.downAtNanos(), stall));
                    openFailover[c] = -1;
                }
            }
        }
    }

    private SoakResult finish(final long runNanos, final long quiesceNanos, final Sampler sampler)
    {
        watch(now());
        final AggregatedDevice device = kind.device();
        final SoakResult r = new SoakResult();
        r.config = config;
        r.kind = deviceKind.name();
        r.runNanos = runNanos;
        r.quiesceNanos = quiesceNanos;
        r.quiesced = drained();
        r.requestsCompleted = completed();
        r.checked = kind.checked();
        r.detail = kind.detail();
        final Histogram latency = new Histogram(60_000_000_000L, 3);
        for (final GuestQueue q : kind.guestQueues())
        {
            latency.add(q.latency());
        }
        r.latency = latency;
        r.failovers = List.copyOf(failovers);
        r.transitions = List.copyOf(transitions);
        r.faults = List.copyOf(marks);
        r.intervalNanos = sampler.interval;
        r.intervalCompletions = sampler.completions();
        r.intervalPerCard = sampler.perCard();
        for (int g = 0; g < device.guestQueueCount(); g++)
        {
            final QueueStats stats = device.frontQueue(g).stats();
            r.staleDropped += stats.get(QueueStats.STALE_DROPPED);
            r.replayed += stats.get(QueueStats.REPLAYED);
            r.failedNoPath += stats.get(QueueStats.FAILED_NO_PATH);
            r.interrupts += stats.get(QueueStats.INTERRUPTS);
        }
        for (int c = 0; c < device.maxCards(); c++)
        {
            // Reports of fenced cards, dropped at their gate before any front queue saw them.
            r.staleDropped += device.port(c) == null ? 0 : device.port(c).gateDropped();
        }
        final List<SoakResult.CardStats> cards = new ArrayList<>();
        final List<FaultTarget> targets = kind.faultTargets();
        for (int c = 0; c < device.maxCards(); c++)
        {
            if (device.port(c) == null)
            {
                continue;
            }
            long submitted = 0;
            long done = 0;
            long errors = 0;
            for (int g = 0; g < device.guestQueueCount(); g++)
            {
                final QueueStats stats = device.frontQueue(g).stats();
                submitted += stats.cardSubmitted(c);
                done += stats.cardCompleted(c);
                errors += stats.cardErrors(c);
            }
            final HealthState h = device.health(c);
            final FaultTarget t = c < targets.size() ? targets.get(c) : null;
            cards.add(new SoakResult.CardStats(device.port(c).card().name(), submitted, done, errors,
                kind.cardCompleted(c), h == null ? "removed" : h.name(), t == null ? "-" : t.fault().name()));
        }
        r.cards = cards;
        r.allDownInSchedule = FaultPlan.allDownAtSomePoint(schedule, targets.size());
        r.lost = kind.outstanding();
        r.duplicated = kind.duplicates();
        r.corrupted = kind.corrupt();
        r.leaked = frontLeaks() + cardLeaks();
        r.extra = kind.extra();
        final GuestModel model = kind.model();
        if (model != null)
        {
            model.finish();
            r.modelChecked = true;
            r.model = model.violations();
            r.modelUnits = model.checked();
            r.modelFirst = model.firstViolations();
        }
        r.guestErrors = kind.errors();
        r.orderChecked = kind.orderChecked();
        r.outOfOrder = kind.outOfOrder();
        r.orderedWrites = kind.orderedWrites();
        r.orderExcused = kind.orderExcused();
        return r;
    }

    /** Completions per interval, in total and per card (from the front queues' per-card counters). */
    private final class Sampler
    {
        final long interval;
        final List<Long> totals = new ArrayList<>();
        final List<long[]> cards = new ArrayList<>();
        long next;
        long lastTotal;
        long[] lastCards = new long[SoakConfig.MAX_CARDS];

        Sampler(final long interval)
        {
            this.interval = interval;
            this.next = interval;
        }

        void sample(final long t)
        {
            while (t >= next)
            {
                next += interval;
                final long total = completed();
                totals.add(total - lastTotal);
                lastTotal = total;
                final long[] now = perCardNow();
                final long[] delta = new long[now.length];
                for (int c = 0; c < now.length; c++)
                {
                    delta[c] = now[c] - lastCards[c];
                }
                lastCards = now;
                cards.add(delta);
            }
        }

        long[] perCardNow()
        {
            final AggregatedDevice device = kind.device();
            final long[] n = new long[SoakConfig.MAX_CARDS];
            for (int g = 0; g < device.guestQueueCount(); g++)
            {
                final FrontQueue front = device.frontQueue(g);
                for (int c = 0; c < n.length; c++)
                {
                    n[c] += front.stats().cardCompleted(c);
                }
            }
            return n;
        }

        long[] completions()
        {
            return totals.stream().mapToLong(Long::longValue).toArray();
        }

        long[][] perCard()
        {
            return cards.toArray(new long[0][]);
        }
    }
}
