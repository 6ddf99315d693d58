package dev.braid.perf.aggregator;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.QueueStats;
import dev.braid.ha.HealthConfig;
import dev.braid.sim.CardFault;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SimDisk;
import dev.braid.sim.TimerSource;
import dev.braid.virtio.card.BlockCard;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.SystemNanoClock;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The guest's failover stall: from the moment a fault hits a card to the guest's first completion
 * of a request replayed from it (a completion whose attempt number is not its use's first, seen
 * through {@link ReplayMarkingCard}). Two cards, one split queue, 32 x 4 KiB requests outstanding,
 * service time uniform 10..50 us, request spray; card 0 fails.
 *
 * <ul>
 *   <li>virtual: the deterministic scheduler in virtual time, one trial per seed; the fault falls at
 *   a random time in [2, 3) ms and its time is known exactly.</li>
 *   <li>threaded: the same device on 2 real threads ({@link AgentThreads}, busy spin) with the
 *   system clock; the main thread injects the fault and the guest thread timestamps the replay.</li>
 * </ul>
 * Faults: LINK_DOWN and FAIL_STOP (the card reports its link down) and HANG (silent; found by the
 * completion timeout, {@code timeoutMillis}).
 *
 * <p>Every threaded trial is counted: it is either measured or a failure with its reason
 * ({@link Outcome}); the goal is met only if every trial was measured and the max is within it.
 * Each threaded trial also records, for the window from the fault to the first replayed completion,
 * how long each agent was paused (gaps over 20 us between two of its {@code doWork} calls: its
 * busy-spinning thread did not run it) and when card 0 was fenced, so the stall can be split into
 * descheduling and Braid.
 *
 * <p>Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks.jar
 * dev.braid.perf.aggregator.FailoverStall [trials=200] [threadedTrials=50] [timeoutMillis=5] [threads=2]}.
 * {@code -Dfailover.trials=true} prints one line per threaded trial.
 */
public final class FailoverStall
{
    private static final CardFault[] FAULTS = {CardFault.LINK_DOWN, CardFault.FAIL_STOP, CardFault.HANG};
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int WARM_UP_TRIALS = 3;

    /** What became of a threaded trial. Everything but MEASURED is a failure of the trial. */
    enum Outcome
    {
        MEASURED("measured"),
        FENCED_BEFORE_FAULT("a failover (fence, replay) happened before the fault: a request outlived the timeout"),
        SURVIVOR_FENCED_FIRST("the surviving card was fenced before the first replay completed"),
        NOTHING_TO_REPLAY("no request of card 0 was replayed within 5 s"),
        NO_REPLAY("requests were replayed but none completed within 5 s"),
        NOT_INJECTED("card 0 accepted no request for 1 s, so the fault was not injected"),
        GUEST_ERRORS("the guest saw error completions");

        final String reason;

        Outcome(final String reason)
        {
            this.reason = reason;
        }
    }

    /** One threaded trial. Times in nanos; -1 when it did not happen. */
    static final class Trial
    {
        Outcome outcome;
        long seed;
        long stall = -1;
        long faultToFence = -1;
        long survivorFencedAfter = -1;
        long replayedByFrontQueue;
        long replaysSeen;
        long replaysOfferedToFailed;
        /** Requests card 0 held just after the fault (racy snapshot, for orientation only). */
        long heldByFailedCard;
        long outstandingOnFailed;
        long guestErrors;
        /**
         * The most time any one agent spent paused (not run by its thread) in [fault, first replay]
         * (or [fault, fault + 5 s]): a lower bound of the descheduling the failover went through.
         */
        long maxPause = -1;
        String maxPauseAgent = "";
        /** The longest time in the window any one agent spent inside its own doWork calls of over 20 us. */
        long maxOwn = -1;
        String maxOwnAgent = "";
        /** CPU time each agent thread got in [fault, end of wait], and that window's wall time. */
        long[] threadCpu = new long[0];
        long cpuWindow = -1;
        /** The same for the 20 ms before the fault. */
        long maxPauseBefore = -1;
        final long[] agentPause;

        Trial(final int agents)
        {
            agentPause = new long[agents];
        }
    }

    private FailoverStall()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int trials = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        final int threadedTrials = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        final long timeoutNanos = (args.length > 2 ? Long.parseLong(args[2]) : 5) * 1_000_000L;
        final int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        final boolean perTrial = Boolean.getBoolean("failover.trials");
        System.out.printf("completion timeout %.1f ms; %d agent threads; stall = fault -> first replayed completion" +
            " seen by the guest%n", timeoutNanos / 1e6, threads);
        System.out.printf("%-9s %-9s %6s %8s %6s %10s %10s %10s %10s %s%n", "mode", "fault", "trials", "measured",
            "failed", "p50 us", "p99 us", "max us", "goal us", "met (all measured, max <= goal)");
        for (final CardFault fault : FAULTS)
        {
            final Histogram stalls = new Histogram(3);
            for (int t = 0; t < trials; t++)
            {
                stalls.recordValue(virtualTrial(1000 + t, fault, timeoutNanos));
            }
            print("virtual", fault, trials, stalls, timeoutNanos);
        }
        for (final CardFault fault : FAULTS)
        {
            final List<Trial> results = new ArrayList<>();
            for (int t = -WARM_UP_TRIALS; t < threadedTrials; t++)
            {
                final Trial trial = threadedTrial(2000 + t, fault, timeoutNanos, threads);
                if (t >= 0)
                {
                    results.add(trial);
                }
            }
            summarise(fault, results, timeoutNanos, perTrial);
        }
    }

    private static void summarise(final CardFault fault, final List<Trial> results, final long timeoutNanos,
        final boolean perTrial)
    {
        final Histogram stalls = new Histogram(3);
        final Histogram fences = new Histogram(3);
        final Histogram pauses = new Histogram(3);
        final Histogram rest = new Histogram(3);
        final Histogram own = new Histogram(3);
        final Histogram cpuShare = new Histogram(3);
        final int[] counts = new int[Outcome.values().length];
        int survivorFencedLater = 0;
        for (final Trial trial : results)
        {
            counts[trial.outcome.ordinal()]++;
            if (trial.outcome == Outcome.MEASURED)
            {
                stalls.recordValue(trial.stall);
                if (trial.faultToFence >= 0)
                {
                    fences.recordValue(trial.faultToFence);
                }
                pauses.recordValue(Math.max(0, trial.maxPause));
                rest.recordValue(Math.max(0, trial.stall - trial.maxPause));
                own.recordValue(Math.max(0, trial.maxOwn));
                if (trial.cpuWindow > 0 && trial.threadCpu.length > 0)
                {
                    long sum = 0;
                    for (final long c : trial.threadCpu)
                    {
                        sum += c;
                    }
                    cpuShare.recordValue(Math.max(0, sum * 100 / (trial.cpuWindow * trial.threadCpu.length)));
                }
                if (trial.survivorFencedAfter >= 0)
                {
                    survivorFencedLater++;
                }
            }
        }
        print("threaded", fault, results.size(), stalls, timeoutNanos);
        for (final Outcome outcome : Outcome.values())
        {
            if (outcome != Outcome.MEASURED && counts[outcome.ordinal()] > 0)
            {
                System.out.printf("          FAILED %d: %s%n", counts[outcome.ordinal()], outcome.reason);
            }
        }
        if (stalls.getTotalCount() > 0)
        {
            if (fences.getTotalCount() > 0)
            {
                System.out.printf("          fault -> fence of card 0: p50 %.1f us, max %.1f us (%d trials fenced it)%n",
                    fences.getValueAtPercentile(50) / 1e3, fences.getMaxValue() / 1e3, fences.getTotalCount());
            }
            System.out.printf("          agents paused (descheduled) within [fault, replay]: p50 %.1f us, max %.1f us;" +
                " stall minus that: p50 %.1f us, max %.1f us%n", pauses.getValueAtPercentile(50) / 1e3,
                pauses.getMaxValue() / 1e3, rest.getValueAtPercentile(50) / 1e3, rest.getMaxValue() / 1e3);
            System.out.printf("          longest own doWork time of one agent in the window: p50 %.1f us, max %.1f us;" +
                " agent threads got %d%% (p50) / %d%% (min) of a CPU each in the window%n",
                own.getValueAtPercentile(50) / 1e3, own.getMaxValue() / 1e3, cpuShare.getValueAtPercentile(50),
                cpuShare.getMinValue());
            if (survivorFencedLater > 0)
            {
                System.out.printf("          of the measured: %d had the survivor fenced after the replay%n",
                    survivorFencedLater);
            }
        }
        if (perTrial)
        {
            for (final Trial t : results)
            {
                System.out.printf("            seed %d %s stall=%s fence=%s survivorFenced=%s replayed(fq)=%d" +
                    " seen=%d offeredToCard0=%d held=%d outstanding=%d errors=%d paused=%s(%s) ownCalls=%s(%s) cpu=%s/%s pausedBefore=%s%n",
                    t.seed, t.outcome, us(t.stall), us(t.faultToFence), us(t.survivorFencedAfter),
                    t.replayedByFrontQueue, t.replaysSeen, t.replaysOfferedToFailed, t.heldByFailedCard,
                    t.outstandingOnFailed, t.guestErrors, us(t.maxPause), t.maxPauseAgent, us(t.maxOwn), t.maxOwnAgent, cpu(t), us(t.cpuWindow),
                    us(t.maxPauseBefore));
            }
        }
    }

    private static String cpu(final Trial t)
    {
        final StringBuilder b = new StringBuilder();
        for (final long c : t.threadCpu)
        {
            b.append(b.length() == 0 ? "" : "+").append(us(c));
        }
        return b.toString();
    }

    private static String us(final long nanos)
    {
        return nanos < 0 ? "-" : String.format("%.1fus", nanos / 1e3);
    }

    private static void print(final String mode, final CardFault fault, final int trials, final Histogram stalls,
        final long timeoutNanos)
    {
        final long goal = goalNanos(fault, timeoutNanos);
        final long failed = trials - stalls.getTotalCount();
        System.out.printf("%-9s %-9s %6d %8d %6d %10.1f %10.1f %10.1f %10.1f %s%n", mode, fault, trials,
            stalls.getTotalCount(), failed, stalls.getValueAtPercentile(50) / 1e3,
            stalls.getValueAtPercentile(99) / 1e3, stalls.getMaxValue() / 1e3, goal / 1e3,
            failed == 0 && stalls.getMaxValue() <= goal ? "yes" : "NO");
    }

    static long goalNanos(final CardFault fault, final long timeoutNanos)
    {
        return fault == CardFault.HANG ? timeoutNanos + 1_000_000 : 1_000_000;
    }

    private static BlkBenchRig.Options options(final long timeoutNanos, final AtomicLongArray submissions)
    {
        final BlkBenchRig.Options options = new BlkBenchRig.Options();
        options.cards = 2;
        options.depth = 32;
        options.queueSize = 128;
        options.latency = LatencyModel.uniform(10_000, 50_000);
        options.health = new HealthConfig().completionTimeoutNanos(timeoutNanos).minDownNanos(2_000_000)
            .probeIntervalNanos(1_000_000);
        final int[] next = {0};
        options.wrap = disk -> new ReplayMarkingCard(disk, next[0]++, 0, submissions);
        return options;
    }

    /**
     * Sees every guest completion and tells those of replayed requests: the front queue gives the
     * n-th use of a head attempt {@code last + 1} (the head's previous use ended at attempt
     * {@code last}) and every replay the next one, so a completion whose attempt is not its use's
     * first is a replay. Records the time of the first one. Guest thread only, except
     * {@link #firstReplayAt}.
     */
    static final class ReplayWatch implements LeanBlkGuest.Watch
    {
        private final AtomicLongArray submissions;
        private final org.agrona.concurrent.NanoClock clock;
        private final int[] expected;
        final AtomicLong firstReplayAt = new AtomicLong(-1);
        volatile long replays;
        volatile long replaysOfferedToCard0;
        long errors;
        long unknown;

        ReplayWatch(final AtomicLongArray submissions, final org.agrona.concurrent.NanoClock clock)
        {
            this.submissions = submissions;
            this.clock = clock;
            expected = new int[submissions.length()];
            // A new device starts every head at attempt 0 and gives its first use attempt 1.
            java.util.Arrays.fill(expected, 1);
        }

        public void onCompleted(final int id, final int status)
        {
            if (status != 0)
            {
                errors++;
            }
            final long entry = submissions.getAndSet(id, 0);
            final int attempt = ReplayMarkingCard.attempt(entry);
            final int first = expected[id];
            if (attempt == 0)
            {
                // Completed without any card being offered it (a failed request): the next use's
                // first attempt is unknown until it is seen.
                unknown++;
                expected[id] = 0;
                return;
            }
            expected[id] = (attempt + 1) & ReplayMarkingCard.ATTEMPT_MASK;
            if (first != 0 && attempt != first)
            {
                replays++;
                if (ReplayMarkingCard.offeredTo(entry, 0))
                {
                    replaysOfferedToCard0++;
                }
                firstReplayAt.compareAndSet(-1, clock.nanoTime());
            }
        }
    }

    /** Injects one fault on one card when the clock reaches a time; records when it did. */
    private static final class Injector implements Agent, TimerSource
    {
        private final SimDisk disk;
        private final CardFault fault;
        private final org.agrona.concurrent.NanoClock clock;
        private final long atNanos;
        long injectedAt = -1;

        Injector(final SimDisk disk, final CardFault fault, final org.agrona.concurrent.NanoClock clock, final long atNanos)
        {
            this.disk = disk;
            this.fault = fault;
            this.clock = clock;
            this.atNanos = atNanos;
        }

        public int doWork()
        {
            if (injectedAt < 0 && clock.nanoTime() >= atNanos)
            {
                injectedAt = clock.nanoTime();
                disk.inject(fault, 0);
                return 1;
            }
            return 0;
        }

        public long nextEventNanos()
        {
            return injectedAt < 0 ? atNanos : NONE;
        }

        public String roleName()
        {
            return "injector";
        }
    }

    /**
     * Runs an agent and logs every pause between two of its {@code doWork} calls longer than
     * {@link #THRESHOLD_NANOS} (from the end of one call to the start of the next: on a busy-spinning
     * thread that is time its thread did not run it: descheduled, a safepoint, or another agent of the
     * thread taking long), and every call of its own that took longer than that (time Braid itself
     * spent, or its thread lost while inside the call). Written by the agent's thread; read after
     * the threads are joined, except {@link #thread}.
     */
    static final class PauseLog implements Agent
    {
        static final long THRESHOLD_NANOS = 20_000;
        private final Agent agent;
        private final long[] ends = new long[1 << 16];
        private final long[] lengths = new long[1 << 16];
        private final boolean[] inside = new boolean[1 << 16];
        private int count;
        private long lastEnd = -1;
        volatile Thread thread;

        PauseLog(final Agent agent)
        {
            this.agent = agent;
        }

        public int doWork() throws Exception
        {
            final long start = System.nanoTime();
            if (lastEnd < 0)
            {
                thread = Thread.currentThread();
            }
            else if (start - lastEnd > THRESHOLD_NANOS)
            {
                log(start, start - lastEnd, false);
            }
            final int work = agent.doWork();
            lastEnd = System.nanoTime();
            if (lastEnd - start > THRESHOLD_NANOS)
            {
                log(lastEnd, lastEnd - start, true);
            }
            return work;
        }

        private void log(final long end, final long length, final boolean own)
        {
            if (count < ends.length)
            {
                ends[count] = end;
                lengths[count] = length;
                inside[count] = own;
                count++;
            }
        }

        public void onStart()
        {
            agent.onStart();
        }

        public void onClose()
        {
            agent.onClose();
        }

        public String roleName()
        {
            return agent.roleName();
        }

        /**
         * Time in [from, to] this agent was not running (pauses between calls, {@code own} false) or
         * spent inside long calls of its own ({@code own} true), each interval clipped to the window.
         */
        long within(final long from, final long to, final boolean own)
        {
            long total = 0;
            for (int i = 0; i < count; i++)
            {
                if (inside[i] != own)
                {
                    continue;
                }
                final long overlap = Math.min(ends[i], to) - Math.max(ends[i] - lengths[i], from);
                if (overlap > 0)
                {
                    total += overlap;
                }
            }
            return total;
        }

        long pausedWithin(final long from, final long to)
        {
            return within(from, to, false);
        }
    }

    static long virtualTrial(final long seed, final CardFault fault, final long timeoutNanos)
    {
        final AtomicLongArray submissions = new AtomicLongArray(128);
        final VirtualTimeLoop loop = new VirtualTimeLoop(seed, options(timeoutNanos, submissions));
        final ReplayWatch watch = new ReplayWatch(submissions, loop.clock);
        loop.rig.guest.watch(watch);
        final long at = 2_000_000 + new SplittableRandom(seed).nextLong(1_000_000);
        final Injector injector = new Injector(loop.rig.disks[0], fault, loop.clock, at);
        loop.scheduler.addAgent(injector);
        final boolean done = loop.scheduler.runUntil(() -> watch.firstReplayAt.get() >= 0, 1_000_000_000L);
        if (!done || watch.errors != 0 || injector.injectedAt < 0 || watch.firstReplayAt.get() < injector.injectedAt)
        {
            throw new IllegalStateException("seed " + seed + " " + fault + ": replay seen=" + done +
                ", guest errors=" + watch.errors + ", injected at " + injector.injectedAt + ", first replay at " +
                watch.firstReplayAt.get());
        }
        return watch.firstReplayAt.get() - injector.injectedAt;
    }

    /** A stuck trial's state: every agent thread's stack, the counters, the cards. */
    private static void dump(final long seed, final CardFault fault, final List<PauseLog> logs,
        final AggregatedDevice<BlockCard> device, final BlkBenchRig rig, final ReplayWatch watch)
    {
        final StringBuilder b = new StringBuilder("DUMP seed " + seed + " " + fault + ": no replay 1 s after the fault\n");
        for (final PauseLog log : logs)
        {
            b.append("  agent ").append(log.roleName()).append(" on ").append(log.thread).append('\n');
        }
        final QueueStats stats = device.frontQueue(0).stats();
        for (int c = 0; c < QueueStats.counterCount(); c++)
        {
            b.append(' ').append(QueueStats.counterName(c)).append('=').append(stats.get(c));
        }
        b.append("\n  fq outstanding card0=").append(device.frontQueue(0).outstanding(0)).append(" card1=")
            .append(device.frontQueue(0).outstanding(1)).append(" guest completed=").append(rig.guest.completed())
            .append(" errors=").append(rig.guest.errors()).append(" replays seen=").append(watch.replays)
            .append("\n  ").append(rig.disks[0]).append("\n  ").append(rig.disks[1])
            .append("\n  health ").append(device.health(0)).append(' ').append(device.health(1))
            .append(" fenced ").append(device.port(0).isFenced()).append(' ').append(device.port(1).isFenced())
            .append(" generation ").append(device.port(0).fenceGeneration()).append(' ').append(device.port(1).fenceGeneration())
            .append('\n');
        final dev.braid.ha.FailoverLog.Entry e = new dev.braid.ha.FailoverLog.Entry();
        for (long q = Math.max(0, device.failoverLog().appended() - 20); q < device.failoverLog().appended(); q++)
        {
            if (device.failoverLog().read(q, e))
            {
                b.append("  ").append(e).append('\n');
            }
        }
        for (final PauseLog log : logs)
        {
            final Thread t = log.thread;
            if (t != null && b.indexOf("stack of " + t.getName()) < 0)
            {
                b.append("  stack of ").append(t.getName()).append('\n');
                for (final StackTraceElement el : t.getStackTrace())
                {
                    b.append("    ").append(el).append('\n');
                }
            }
        }
        System.err.print(b);
    }

    private static long[] cpuTimes(final List<Thread> threads)
    {
        final java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        final long[] times = new long[threads.size()];
        for (int i = 0; i < times.length; i++)
        {
            times[i] = bean.getThreadCpuTime(threads.get(i).getId());
        }
        return times;
    }

    static Trial threadedTrial(final long seed, final CardFault fault, final long timeoutNanos, final int threadCount)
        throws Exception
    {
        final AtomicLongArray submissions = new AtomicLongArray(128);
        final BlkBenchRig.Options options = options(timeoutNanos, submissions);
        options.clock = SystemNanoClock.INSTANCE;
        options.seed = seed;
        final BlkBenchRig rig = new BlkBenchRig(options);
        final ReplayWatch watch = new ReplayWatch(submissions, SystemNanoClock.INSTANCE);
        rig.guest.watch(watch);
        final AggregatedDevice<BlockCard> device = rig.aggregated();
        final List<PauseLog> logs = new ArrayList<>();
        logs.add(new PauseLog(rig.guest));
        for (final Agent agent : device.agents())
        {
            logs.add(new PauseLog(agent));
        }
        final Trial trial = new Trial(logs.size());
        trial.seed = seed;
        final SimDisk failed = rig.disks[0];
        final long injectedAt;
        final long replayedBefore;
        try (AgentThreads threads = AgentThreads.start(new ArrayList<>(logs), threadCount, AgentThreads.busySpin()))
        {
            final long warmUntil = System.nanoTime() + 20_000_000 + new SplittableRandom(seed).nextLong(1_000_000);
            while (System.nanoTime() < warmUntil)
            {
                Thread.sleep(1);
            }
            final boolean disturbed = watch.firstReplayAt.get() >= 0 || device.failovers().fencedAtNanos(0) != 0 ||
                device.failovers().fencedAtNanos(1) != 0;
            replayedBefore = device.frontQueue(0).stats().get(QueueStats.REPLAYED);
            final List<Thread> agentThreads = new ArrayList<>();
            for (final PauseLog log : logs)
            {
                if (log.thread != null && !agentThreads.contains(log.thread))
                {
                    agentThreads.add(log.thread);
                }
            }
            final long[] cpuBefore = cpuTimes(agentThreads);
            // The fault must hit a card that holds requests, or no request needs a replay: card 0's
            // worker injects it right after the card accepted a request (ReplayMarkingCard.armFault).
            final ReplayMarkingCard target = (ReplayMarkingCard)rig.cards[0];
            if (!disturbed)
            {
                target.armFault(failed, fault);
            }
            final long armDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (!disturbed && target.injectedAt() < 0 && System.nanoTime() < armDeadline)
            {
                Thread.onSpinWait();
            }
            final boolean idle = !disturbed && target.injectedAt() < 0;
            if (idle)
            {
                target.armFault(failed, null);
            }
            injectedAt = disturbed || idle ? System.nanoTime() : target.injectedAt();
            trial.outstandingOnFailed = device.frontQueue(0).outstanding(0);
            trial.heldByFailedCard = failed.submitted() - failed.completed();
            final long deadline = injectedAt + WAIT_NANOS;
            boolean dumped = !Boolean.getBoolean("failover.dump");
            while (!disturbed && !idle && watch.firstReplayAt.get() < 0 && System.nanoTime() < deadline &&
                threads.failure() == null)
            {
                Thread.sleep(0, 100_000);
                if (!dumped && System.nanoTime() - injectedAt > 1_000_000_000L)
                {
                    dumped = true;
                    dump(seed, fault, logs, device, rig, watch);
                }
            }
            final long[] cpuAfter = cpuTimes(agentThreads);
            trial.cpuWindow = System.nanoTime() - injectedAt;
            trial.threadCpu = new long[agentThreads.size()];
            for (int i = 0; i < cpuAfter.length; i++)
            {
                trial.threadCpu[i] = cpuAfter[i] - cpuBefore[i];
            }
            if (threads.failure() != null)
            {
                throw new IllegalStateException("agent failed", threads.failure());
            }
            if (disturbed)
            {
                trial.outcome = Outcome.FENCED_BEFORE_FAULT;
            }
            else if (idle)
            {
                trial.outcome = Outcome.NOT_INJECTED;
            }
        }
        // The threads are joined: everything they wrote is visible.
        final long replayAt = watch.firstReplayAt.get();
        final long fenced0 = device.failovers().fencedAtNanos(0);
        final long fenced1 = device.failovers().fencedAtNanos(1);
        trial.faultToFence = fenced0 >= injectedAt ? fenced0 - injectedAt : -1;
        trial.survivorFencedAfter = fenced1 >= injectedAt ? fenced1 - injectedAt : -1;
        trial.replayedByFrontQueue = device.frontQueue(0).stats().get(QueueStats.REPLAYED) - replayedBefore;
        trial.replaysSeen = watch.replays;
        trial.replaysOfferedToFailed = watch.replaysOfferedToCard0;
        trial.guestErrors = watch.errors;
        final long windowEnd = replayAt >= injectedAt ? replayAt : injectedAt + WAIT_NANOS;
        trial.maxPause = 0;
        trial.maxOwn = 0;
        for (final PauseLog log : logs)
        {
            final long own = log.within(injectedAt, windowEnd, true);
            if (own > trial.maxOwn)
            {
                trial.maxOwn = own;
                trial.maxOwnAgent = log.roleName();
            }
        }
        trial.maxPauseBefore = 0;
        for (int i = 0; i < logs.size(); i++)
        {
            final long pause = logs.get(i).pausedWithin(injectedAt, windowEnd);
            trial.agentPause[i] = pause;
            if (pause > trial.maxPause)
            {
                trial.maxPause = pause;
                trial.maxPauseAgent = logs.get(i).roleName();
            }
            trial.maxPauseBefore = Math.max(trial.maxPauseBefore, logs.get(i).pausedWithin(injectedAt - 20_000_000, injectedAt));
        }
        if (trial.outcome == null && ((replayAt >= 0 && replayAt < injectedAt) ||
            (fenced0 != 0 && fenced0 < injectedAt) || (fenced1 != 0 && fenced1 < injectedAt)))
        {
            // Between the check and the injection: still not this fault's stall.
            trial.outcome = Outcome.FENCED_BEFORE_FAULT;
        }
        if (trial.outcome != null)
        {
            return trial;
        }
        if (replayAt >= 0)
        {
            trial.stall = replayAt - injectedAt;
        }
        if (watch.errors > 0)
        {
            trial.outcome = Outcome.GUEST_ERRORS;
        }
        else if (replayAt < 0)
        {
            trial.outcome = trial.replayedByFrontQueue == 0 ? Outcome.NOTHING_TO_REPLAY : Outcome.NO_REPLAY;
        }
        else if (fenced1 >= injectedAt && fenced1 < replayAt)
        {
            trial.outcome = Outcome.SURVIVOR_FENCED_FIRST;
        }
        else
        {
            trial.outcome = Outcome.MEASURED;
        }
        return trial;
    }
}
