package dev.braid.sim;

import org.agrona.concurrent.Agent;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * Runs a set of Agrona {@link Agent}s on the calling thread in a seeded random order, over a
 * {@link VirtualClock}: the deterministic mode of the design. The same seed and the same agents give
 * the same interleaving, step for step, so a failing seed replays exactly.
 *
 * <p>Agents run in rounds. Each round is a fresh seeded permutation of all agents and each step runs
 * the next agent of the permutation once, so every agent runs once per round but in a different
 * order. When a whole round did no work, nothing can change until time moves: the clock jumps to the
 * earliest {@link TimerSource#nextEventNanos()} of the registered sources (at least
 * {@link #minAdvanceNanos()} ahead, so that a source which reports due work it cannot do still lets
 * time pass).
 *
 * <p>Every step is folded into {@link #traceHash()}: agent, work count and time. Two runs with equal
 * hashes took the same path.
 */
public final class DeterministicScheduler implements AutoCloseable
{
    public static final long DEFAULT_MIN_ADVANCE_NANOS = 1_000;

    private static final long FNV_OFFSET = 0xCBF2_9CE4_8422_2325L;
    private static final long FNV_PRIME = 0x0000_0100_0000_01B3L;

    private final long seed;
    private final VirtualClock clock;
    private final SplittableRandom random;
    private final long minAdvanceNanos;
    private Agent[] agents = new Agent[0];
    private TimerSource[] timers = new TimerSource[0];
    private int[] order = new int[0];
    private int position;
    private int roundWork;
    private long steps;
    private long rounds;
    private long idleAdvances;
    private long traceHash = FNV_OFFSET;
    private boolean idleRoundEnded;
    private boolean closed;

    public DeterministicScheduler(final long seed, final VirtualClock clock)
    {
        this(seed, clock, DEFAULT_MIN_ADVANCE_NANOS);
    }

    public DeterministicScheduler(final long seed, final VirtualClock clock, final long minAdvanceNanos)
    {
        if (minAdvanceNanos <= 0)
        {
            throw new IllegalArgumentException("minAdvanceNanos must be positive: " + minAdvanceNanos);
        }
        this.seed = seed;
        this.clock = clock;
        this.random = new SplittableRandom(seed);
        this.minAdvanceNanos = minAdvanceNanos;
    }

    public long seed()
    {
        return seed;
    }

    public VirtualClock clock()
    {
        return clock;
    }

    public long minAdvanceNanos()
    {
        return minAdvanceNanos;
    }

    /**
     * Adds an agent and calls its {@code onStart()}. An agent that is also a {@link TimerSource} is
     * registered as one. Takes effect from the next round.
     */
    public DeterministicScheduler addAgent(final Agent agent)
    {
        agents = Arrays.copyOf(agents, agents.length + 1);
        agents[agents.length - 1] = agent;
        agent.onStart();
        if (agent instanceof TimerSource)
        {
            addTimerSource((TimerSource)agent);
        }
        return this;
    }

    /** Registers a source of future work that is not itself an agent (a card polled by another agent). */
    public DeterministicScheduler addTimerSource(final TimerSource source)
    {
        for (final TimerSource existing : timers)
        {
            if (existing == source)
            {
                return this;
            }
        }
        timers = Arrays.copyOf(timers, timers.length + 1);
        timers[timers.length - 1] = source;
        return this;
    }

    public int agentCount()
    {
        return agents.length;
    }

    /** Agent steps run so far. */
    public long steps()
    {
        return steps;
    }

    /** Rounds completed so far. */
    public long rounds()
    {
        return rounds;
    }

    /** Times an idle round moved the clock. */
    public long idleAdvances()
    {
        return idleAdvances;
    }

    /** A hash of every step so far: (agent index, work, virtual time). */
    public long traceHash()
    {
        return traceHash;
    }

    /**
     * Runs one agent. At the end of a round that did no work, moves the clock to the next deadline.
     *
     * @return the agent's work count.
     */
    public int step()
    {
        final int work = runOneAgent();
        if (idleRoundEnded)
        {
            advanceIdle(Long.MAX_VALUE);
        }
        return work;
    }

    /** Runs the rest of the current round (or one whole round) and returns the work it did. */
    public int runRound()
    {
        int work = 0;
        do
        {
            work += step();
        }
        while (position != order.length);
        return work;
    }

    /**
     * Steps until {@code done} holds, virtual time would pass {@code start + maxVirtualNanos} (the
     * clock then stops at that limit), or the system is quiescent (an idle round and no pending
     * deadline: nothing can ever change again).
     *
     * @return whether {@code done} held at the end.
     */
    public boolean runUntil(final BooleanSupplier done, final long maxVirtualNanos)
    {
        return runUntil(done, maxVirtualNanos, Long.MAX_VALUE);
    }

    /**
     * As {@link #runUntil(BooleanSupplier, long)}, and also stops after {@code maxSteps} steps: a guard
     * against agents that report work forever, so that virtual time never moves.
     */
    public boolean runUntil(final BooleanSupplier done, final long maxVirtualNanos, final long maxSteps)
    {
        final long stepLimit = steps + maxSteps < steps ? Long.MAX_VALUE : steps + maxSteps;
        final long start = clock.nanoTime();
        final long limit = start + maxVirtualNanos < start ? Long.MAX_VALUE : start + maxVirtualNanos;
        while (!done.getAsBoolean())
        {
            if (clock.nanoTime() > limit || steps >= stepLimit)
            {
                return false;
            }
            runOneAgent();
            if (idleRoundEnded && !advanceIdle(limit))
            {
                return done.getAsBoolean();
            }
        }
        return true;
    }

    /** Steps for exactly {@code virtualNanos} of virtual time (or until quiescent). */
    public void runFor(final long virtualNanos)
    {
        final long end = clock.nanoTime() + virtualNanos;
        runUntil(() -> clock.nanoTime() >= end, virtualNanos);
        clock.advanceTo(end);
    }

    /** The earliest deadline of all sources, {@link TimerSource#NONE} if none. */
    public long nextDeadline()
    {
        long next = TimerSource.NONE;
        for (final TimerSource timer : timers)
        {
            next = Math.min(next, timer.nextEventNanos());
        }
        return next;
    }

    /** Calls {@code onClose()} on every agent, once. */
    public void close()
    {
        if (!closed)
        {
            closed = true;
            for (final Agent agent : agents)
            {
                agent.onClose();
            }
        }
    }

    private int runOneAgent()
    {
        if (agents.length == 0)
        {
            throw new IllegalStateException("no agents");
        }
        if (position == order.length || order.length != agents.length)
        {
            startRound();
        }
        final int index = order[position++];
        final Agent agent = agents[index];
        final int work;
        try
        {
            work = agent.doWork();
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(
                "agent " + agent.roleName() + " failed at step " + steps + ", t=" + clock.nanoTime() +
                "ns, seed=" + seed, ex);
        }
        steps++;
        roundWork += work;
        trace(index);
        trace(work);
        trace(clock.nanoTime());
        idleRoundEnded = false;
        if (position == order.length)
        {
            rounds++;
            idleRoundEnded = roundWork == 0;
        }
        return work;
    }

    private void startRound()
    {
        final int n = agents.length;
        if (order.length != n)
        {
            order = new int[n];
        }
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--)
        {
            final int j = random.nextInt(i + 1);
            final int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        position = 0;
        roundWork = 0;
    }

    /**
     * Moves the clock to the next deadline. Returns false, with the clock at {@code limit}, when that
     * deadline lies beyond {@code limit}, and false, with the clock unmoved, when nothing is pending.
     */
    private boolean advanceIdle(final long limit)
    {
        final long deadline = nextDeadline();
        if (deadline == TimerSource.NONE)
        {
            return false;
        }
        final long now = clock.nanoTime();
        final long earliest = now + minAdvanceNanos < now ? Long.MAX_VALUE : now + minAdvanceNanos;
        final long target = Math.max(deadline, earliest);
        idleAdvances++;
        if (target > limit)
        {
            clock.advanceTo(limit);
            trace(-2);
            trace(limit);
            return false;
        }
        clock.advanceTo(target);
        trace(-1);
        trace(target);
        return true;
    }

    private void trace(final long value)
    {
        traceHash = (traceHash ^ value) * FNV_PRIME;
    }
}
