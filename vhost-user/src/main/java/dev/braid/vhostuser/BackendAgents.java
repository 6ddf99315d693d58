package dev.braid.vhostuser;

import dev.braid.aggregator.AgentThreads;
import dev.braid.virtio.queue.DeviceQueue;
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
 * epoll on the kicks while the guest idles); otherwise Agrona back-off, the rings polled. Control
 * thread only, except {@link #kickWaiter()}.
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
    private AgentThreads threads;
    private volatile KickWaiter waiter;

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

    /** The running agent thread's kick waiter; null when stopped, polling or with more than one thread. Any thread. */
    KickWaiter kickWaiter()
    {
        return waiter;
    }

    /**
     * Waits, at most {@link #DRAIN_TIMEOUT_NANOS}, until {@code owed} (requests the running agents
     * still owe the guest) reaches 0. Returns what is still owed then, 0 normally.
     */
    static int awaitDrained(final IntSupplier owed)
    {
        final long deadline = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
        int left = owed.getAsInt();
        while (left > 0 && System.nanoTime() < deadline)
        {
            Thread.onSpinWait();
            Thread.yield();
            left = owed.getAsInt();
        }
        return left;
    }
}
