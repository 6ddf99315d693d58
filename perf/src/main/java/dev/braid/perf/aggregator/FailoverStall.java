package dev.braid.perf.aggregator;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.ha.HealthConfig;
import dev.braid.sim.CardFault;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SimDisk;
import dev.braid.sim.TimerSource;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.SystemNanoClock;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The guest's failover stall: from the moment a fault hits a card to the guest's first completion
 * of a request replayed from it (a request the device submitted a second time, seen through
 * {@link ReplayMarkingCard}). Two cards, one split queue, 32 x 4 KiB requests outstanding, service
 * time uniform 10..50 us, request spray; card 0 fails.
 *
 * <ul>
 *   <li>virtual: the deterministic scheduler in virtual time, one trial per seed; the fault falls at
 *   a random time in [2, 3) ms and its time is known exactly.</li>
 *   <li>threaded: the same device on 2 real threads ({@link AgentThreads}, busy spin) with the
 *   system clock; the main thread injects the fault and the guest thread timestamps the replay.</li>
 * </ul>
 * Faults: LINK_DOWN and FAIL_STOP (the card reports its link down) and HANG (silent; found by the
 * completion timeout, {@code timeoutMillis}). A threaded trial in which a failover happened before the
 * fault (a request outlived the timeout because a thread was descheduled) is discarded and counted.
 *
 * <p>Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks.jar
 * dev.braid.perf.aggregator.FailoverStall [trials=200] [threadedTrials=50] [timeoutMillis=5]}
 */
public final class FailoverStall
{
    private static final long SPURIOUS = -1;
    private static final long NO_REPLAY = -2;
    private static int survivorFenced;
    private static final CardFault[] FAULTS = {CardFault.LINK_DOWN, CardFault.FAIL_STOP, CardFault.HANG};

    private FailoverStall()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int trials = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        final int threadedTrials = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        final long timeoutNanos = (args.length > 2 ? Long.parseLong(args[2]) : 5) * 1_000_000L;
        System.out.printf("completion timeout %.1f ms; stall = fault -> first replayed completion seen by the guest%n",
            timeoutNanos / 1e6);
        System.out.printf("%-9s %-9s %7s %10s %10s %10s %12s %s%n", "mode", "fault", "trials", "p50 us", "p99 us",
            "max us", "goal us", "met (max <= goal)");
        for (final CardFault fault : FAULTS)
        {
            final Histogram stalls = new Histogram(3);
            for (int t = 0; t < trials; t++)
            {
                stalls.recordValue(virtualTrial(1000 + t, fault, timeoutNanos));
            }
            print("virtual", fault, stalls, timeoutNanos);
        }
        for (final CardFault fault : FAULTS)
        {
            final Histogram stalls = new Histogram(3);
            int disturbed = 0;
            int unseen = 0;
            survivorFenced = 0;
            for (int t = -3; t < threadedTrials; t++)
            {
                final long stall = threadedTrial(2000 + t, fault, timeoutNanos);
                if (t >= 0)
                {
                    if (stall == SPURIOUS)
                    {
                        disturbed++;
                    }
                    else if (stall == NO_REPLAY)
                    {
                        unseen++;
                    }
                    else
                    {
                        stalls.recordValue(stall);
                    }
                }
            }
            print("threaded", fault, stalls, timeoutNanos);
            if (survivorFenced > 0)
            {
                System.out.printf("          (in %d threaded trials the surviving card was fenced too: a timeout" +
                    " under load)%n", survivorFenced);
            }
            if (disturbed + unseen > 0)
            {
                System.out.printf("          (discarded: %d trials with a spurious failover before the fault, %d with" +
                    " no replay within 5 s)%n", disturbed, unseen);
            }
        }
    }

    private static void print(final String mode, final CardFault fault, final Histogram stalls, final long timeoutNanos)
    {
        final long goal = fault == CardFault.HANG ? timeoutNanos + 1_000_000 : 1_000_000;
        System.out.printf("%-9s %-9s %7d %10.1f %10.1f %10.1f %12.1f %s%n", mode, fault, stalls.getTotalCount(),
            stalls.getValueAtPercentile(50) / 1e3, stalls.getValueAtPercentile(99) / 1e3, stalls.getMaxValue() / 1e3,
            goal / 1e3, stalls.getMaxValue() <= goal ? "yes" : "NO");
    }

    private static BlkBenchRig.Options options(final long timeoutNanos, final AtomicIntegerArray replayed)
    {
        final BlkBenchRig.Options options = new BlkBenchRig.Options();
        options.cards = 2;
        options.depth = 32;
        options.queueSize = 128;
        options.latency = LatencyModel.uniform(10_000, 50_000);
        options.health = new HealthConfig().completionTimeoutNanos(timeoutNanos).minDownNanos(2_000_000)
            .probeIntervalNanos(1_000_000);
        options.wrap = disk -> new ReplayMarkingCard(disk, replayed);
        return options;
    }

    /** Records the first guest completion of a replayed request, at the time {@code clock} gives. */
    private static final class ReplayWatch implements LeanBlkGuest.Watch
    {
        private final AtomicIntegerArray replayed;
        private final org.agrona.concurrent.NanoClock clock;
        final AtomicLong firstReplayAt = new AtomicLong(-1);
        long errors;

        ReplayWatch(final AtomicIntegerArray replayed, final org.agrona.concurrent.NanoClock clock)
        {
            this.replayed = replayed;
            this.clock = clock;
        }

        public void onCompleted(final int id, final int status)
        {
            if (status != 0)
            {
                errors++;
            }
            if (replayed.getAndSet(id, 0) == 2)
            {
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

    static long virtualTrial(final long seed, final CardFault fault, final long timeoutNanos)
    {
        final AtomicIntegerArray replayed = new AtomicIntegerArray(128);
        final VirtualTimeLoop loop = new VirtualTimeLoop(seed, options(timeoutNanos, replayed));
        final ReplayWatch watch = new ReplayWatch(replayed, loop.clock);
        loop.rig.guest.watch(watch);
        final long at = 2_000_000 + new SplittableRandom(seed).nextLong(1_000_000);
        final Injector injector = new Injector(loop.rig.disks[0], fault, loop.clock, at);
        loop.scheduler.addAgent(injector);
        final boolean done = loop.scheduler.runUntil(() -> watch.firstReplayAt.get() >= 0, 1_000_000_000L);
        if (!done || watch.errors != 0)
        {
            throw new IllegalStateException("seed " + seed + " " + fault + ": replay seen=" + done +
                ", guest errors=" + watch.errors);
        }
        return watch.firstReplayAt.get() - injector.injectedAt;
    }

    static long threadedTrial(final long seed, final CardFault fault, final long timeoutNanos) throws Exception
    {
        final AtomicIntegerArray replayed = new AtomicIntegerArray(128);
        final BlkBenchRig.Options options = options(timeoutNanos, replayed);
        options.clock = SystemNanoClock.INSTANCE;
        options.seed = seed;
        final BlkBenchRig rig = new BlkBenchRig(options);
        final ReplayWatch watch = new ReplayWatch(replayed, SystemNanoClock.INSTANCE);
        rig.guest.watch(watch);
        final AggregatedDevice device = rig.aggregated();
        final List<Agent> agents = new ArrayList<>();
        agents.add(rig.guest);
        agents.addAll(device.agents());
        try (AgentThreads threads = AgentThreads.start(agents, 2, AgentThreads.busySpin()))
        {
            final long warmUntil = System.nanoTime() + 20_000_000 + new SplittableRandom(seed).nextLong(1_000_000);
            while (System.nanoTime() < warmUntil)
            {
                Thread.sleep(1);
            }
            // The fault must hit a card that carries requests, or no request needs a replay.
            final long busyDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (device.frontQueue(0).outstanding(0) == 0 && System.nanoTime() < busyDeadline)
            {
                Thread.onSpinWait();
            }
            if (watch.firstReplayAt.get() >= 0 || device.failovers().fencedAtNanos(0) != 0)
            {
                // A request outlived the completion timeout on this loaded machine: not this fault's stall.
                return SPURIOUS;
            }
            final long injectedAt = System.nanoTime();
            rig.disks[0].inject(fault, 0);
            final long deadline = injectedAt + TimeUnit.SECONDS.toNanos(5);
            while (watch.firstReplayAt.get() < 0 && System.nanoTime() < deadline && threads.failure() == null)
            {
                Thread.sleep(0, 100_000);
            }
            if (device.failovers().fencedAtNanos(1) != 0 && seed >= 2000)
            {
                survivorFenced++;
            }
            if (threads.failure() != null)
            {
                throw new IllegalStateException("agent failed", threads.failure());
            }
            if (watch.firstReplayAt.get() < 0)
            {
                return NO_REPLAY;
            }
            return watch.firstReplayAt.get() - injectedAt;
        }
    }
}
