package dev.braid.vhostuser;

import dev.braid.aggregator.AgentThreads;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.IdleStrategy;

import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The agent threads of a vhost-user device between a start and its stop, and how they idle: with
 * one agent thread and a kick eventfd for every ring, a {@link KickWaiter} (the thread sleeps in
 * epoll on the kicks while the guest idles); otherwise Agrona back-off, the rings polled. A stop
 * that owes the guest nothing ({@link #stopDrained}) freezes the rings after the threads stopped
 * and completes what their last pass took. Control thread only, except {@link #kickWaiter()}.
 */
final class BackendAgents
{
    /** How long a stop waits for the requests in flight before it gives them up. */
    static final long DRAIN_TIMEOUT_NANOS = 5_000_000_000L;
    /** Idle this long with nothing in flight, and the agent thread blocks on the kick fds. */
    static final long IDLE_BEFORE_SLEEP_NANOS = 2_000_000L;
    /** The longest block: the agents' timers (probes, fault schedules) run at least this often. */
    static final int SLEEP_TIMEOUT_MILLIS = 50;

    private final int agentThreads;
    private int[] kickFds = new int[0];
    private List<Agent> agents = List.of();
    private AgentThreads threads;
    private volatile KickWaiter waiter;
    private volatile long lateStops;

    BackendAgents(final int agentThreads)
    {
        this.agentThreads = agentThreads;
    }

    /** The kick fds of the next start's rings (see {@link BackendDevice#kickFds}), copied. */
    void kickFds(final int[] kickFds, final int count)
    {
        this.kickFds = Arrays.copyOf(kickFds, count);
    }

    /**
     * Runs {@code agents}. With one agent thread and a kick fd for each of {@code rings} (virtio
     * order, as the kick fds), idles in a {@link KickWaiter} over them, which sleeps only while
     * {@code quiescent} (read on the agent thread: nothing in flight). Otherwise polls.
     */
    void start(final List<Agent> agents, final DeviceQueue[] rings, final BooleanSupplier quiescent)
    {
        this.agents = agents;
        Supplier<IdleStrategy> idle = AgentThreads.backoff();
        if (agentThreads == 1 && kickFds.length == rings.length)
        {
            final KickWaiter kicks = new KickWaiter(rings, kickFds, quiescent, IDLE_BEFORE_SLEEP_NANOS,
                SLEEP_TIMEOUT_MILLIS);
            waiter = kicks;
            idle = () -> kicks;
        }
        threads = AgentThreads.start(agents, agentThreads, idle);
    }

    /** Runs {@code agents} with the rings polled (Agrona back-off), whatever the kick fds. */
    void startPolling(final List<Agent> agents)
    {
        this.agents = agents;
        threads = AgentThreads.start(agents, agentThreads, AgentThreads.backoff());
    }

    /** Stops the agent threads: wakes a sleeping one first (its wake is sticky), joins, then closes the waiter's fds. */
    void stop()
    {
        final AgentThreads running = threads;
        final KickWaiter sleeping = waiter;
        threads = null;
        waiter = null;
        if (sleeping != null)
        {
            sleeping.wake();
        }
        if (running != null)
        {
            running.close();
        }
        if (sleeping != null)
        {
            sleeping.close();
        }
    }

    /**
     * Stops whose agents' last pass, after the drain, took requests that the agents then ran again
     * to complete. Any thread: tests, to show the window was hit.
     */
    long lateStops()
    {
        return lateStops;
    }

    /** The running agent thread's kick waiter; null when stopped, polling or with more than one thread. Any thread. */
    KickWaiter kickWaiter()
    {
        return waiter;
    }

    /**
     * Stops the agent threads with nothing owed to the guest, within {@link #DRAIN_TIMEOUT_NANOS}:
     * waits until {@code owed} (requests popped and not completed) reaches 0, stops the threads,
     * and then, because their last pass may have popped a chain the guest posted after that 0,
     * freezes every split ring of {@code rings} at its last avail index ({@link SplitQueue#freeze})
     * and, while anything is owed, runs the agents again (polling, nothing more is popped) until
     * it is completed. Each ring's last avail index is then the next one to pop, with every chain
     * before it completed. Returns what is still owed at the deadline (abandoned), 0 normally.
     */
    int stopDrained(final DeviceQueue[] rings, final IntSupplier owed)
    {
        final long deadline = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
        awaitDrained(owed, deadline);
        final List<Agent> ran = agents;
        stop();
        for (final DeviceQueue ring : rings)
        {
            if (ring instanceof SplitQueue)
            {
                ((SplitQueue)ring).freeze(); // no thread runs the ring: the restart below sees it
            }
        }
        int left = owed.getAsInt(); // the threads were joined: exact
        if (left > 0)
        {
            lateStops = lateStops + 1;
            startPolling(ran);
            awaitDrained(owed, deadline);
            stop();
            left = owed.getAsInt();
        }
        agents = List.of();
        return left;
    }

    /** Waits until {@code owed} (requests the running agents still owe the guest) reaches 0 or the deadline passes. */
    private static void awaitDrained(final IntSupplier owed, final long deadline)
    {
        int left = owed.getAsInt();
        while (left > 0 && System.nanoTime() < deadline)
        {
            Thread.onSpinWait();
            Thread.yield();
            left = owed.getAsInt();
        }
    }
}
