package dev.braid.aggregator;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.DynamicCompositeAgent;
import org.agrona.concurrent.IdleStrategy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Threaded mode: runs a device's agents on a fixed number of threads. Agents are dealt round-robin
 * onto {@link CompositeAgent}s, so two cores are enough for any number of queues and cards; agents
 * added later (hot-added cards) join a {@link DynamicCompositeAgent} on the last thread.
 *
 * <p>Dealing never splits state that must stay on one thread: whatever must share a thread is one
 * agent (the HA controller and the control plane are one control conductor, see
 * {@link AggregatedDevice#agents()}), and each listed agent runs whole on one thread.
 *
 * <p>Each thread idles through a {@link CardWaitingIdleStrategy} over its card workers: with a card
 * that has requests outstanding and nothing else to do, it sleeps in that card for the first
 * completion (bounded by the device's card wait), otherwise it idles with the given strategy.
 *
 * <p>The first error any agent throws is kept and the runner stops; {@link #failure()} reports it
 * rather than letting it escape into the VMM's threads.
 */
public final class AgentThreads implements AutoCloseable
{
    private final List<AgentRunner> runners = new ArrayList<>();
    private final DynamicCompositeAgent late;
    private final CardWaitingIdleStrategy lateIdle;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private AgentThreads(final List<Agent> agents, final int threads, final Supplier<IdleStrategy> idle)
    {
        if (threads < 1)
        {
            throw new IllegalArgumentException("threads must be >= 1: " + threads);
        }
        final List<List<Agent>> groups = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            groups.add(new ArrayList<>());
        }
        for (int i = 0; i < agents.size(); i++)
        {
            groups.get(i % threads).add(agents.get(i));
        }
        late = new DynamicCompositeAgent("braid-late-agents");
        groups.get(threads - 1).add(late);
        final ErrorHandler errors = throwable -> failure.compareAndSet(null, throwable);
        CardWaitingIdleStrategy last = null;
        for (int t = 0; t < threads; t++)
        {
            final Agent agent = new CompositeAgent(groups.get(t));
            last = new CardWaitingIdleStrategy(groups.get(t), idle.get());
            runners.add(new AgentRunner(last, errors, null, agent));
        }
        lateIdle = last;
    }

    /** Starts the agents on {@code threads} threads with the given idle strategy (one per thread). */
    public static AgentThreads start(final List<Agent> agents, final int threads, final Supplier<IdleStrategy> idle)
    {
        final AgentThreads result = new AgentThreads(agents, threads, idle);
        for (final AgentRunner runner : result.runners)
        {
            AgentRunner.startOnThread(runner);
        }
        return result;
    }

    /** Back-off idling: the default, kind to shared machines. */
    public static Supplier<IdleStrategy> backoff()
    {
        return () -> new BackoffIdleStrategy(100, 10, 1_000, 100_000);
    }

    /** Busy spinning: lowest latency, one core per thread (a device built with card wait 0 never sleeps in a card either). */
    public static Supplier<IdleStrategy> busySpin()
    {
        return BusySpinIdleStrategy::new;
    }

    /** Adds an agent while running (a hot-added card's workers). */
    public void add(final Agent agent)
    {
        lateIdle.add(agent);
        while (!late.tryAdd(agent))
        {
            Thread.onSpinWait();
        }
    }

    /** The first error an agent threw, or null. */
    public Throwable failure()
    {
        return failure.get();
    }

    public void close()
    {
        for (final AgentRunner runner : runners)
        {
            runner.close();
        }
    }
}
