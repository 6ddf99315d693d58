package dev.braid.vhostuser;

import dev.braid.virtio.queue.DeviceQueue;
import org.agrona.BufferUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.function.BooleanSupplier;

/**
 * The idle strategy of a vhost-user device's one agent thread: busy-polls (Agrona back-off) while
 * there is work, and once the thread has found none for {@code idleBeforeSleepNanos} and nothing
 * is in flight, blocks in {@code epoll_wait} on the rings' kick eventfds, so an idle guest costs
 * no CPU. While polling, the guest is asked not to kick ({@code VRING_USED_F_NO_NOTIFY}; with
 * EVENT_IDX, avail_event is left behind); before blocking each ring is re-armed
 * ({@link DeviceQueue#enableNotifications}: flag cleared or avail_event = last avail, then a
 * full fence and a fresh look at avail.idx), and a ring that already has work cancels the sleep,
 * so no kick is lost between the last poll and the wait.
 *
 * <p>The wait is bounded by {@code sleepTimeoutMillis}: timers of the agents (HA probes, fault
 * schedules, link checks) still run while the guest idles, at that period. {@link #wake()} (any
 * thread) ends a wait at once and prevents further ones: the device calls it before stopping
 * its agent thread.
 *
 * <p>Only for a device whose agents all run on the thread that owns this strategy: it touches the
 * rings' notification fields and reads {@code inFlight} of the front queues, both that thread's.
 */
public final class KickWaiter implements IdleStrategy, AutoCloseable
{
    private static final boolean PACKED_EVENT = "x86-64".equals(com.sun.jna.Platform.ARCH);
    private static final int EVENT_LENGTH = PACKED_EVENT ? Libc.EPOLL_EVENT_LENGTH : 16;
    private static final int EVENT_DATA_OFFSET = PACKED_EVENT ? Libc.EPOLL_EVENT_DATA_OFFSET : 8;
    private static final long WAKE_TOKEN = -1L;

    private final DeviceQueue[] queues;
    private final int[] kickFds;
    private final BooleanSupplier quiescent;
    private final long idleBeforeSleepNanos;
    private final int sleepTimeoutMillis;
    private final IdleStrategy backoff = new BackoffIdleStrategy(100, 10, 1_000, 100_000);
    private final UnsafeBuffer events;
    private final UnsafeBuffer scratch;
    private final int maxEvents;
    private final int epollFd;
    private final int wakeFd;
    private final boolean canSleep;

    private volatile boolean woken;
    private volatile long sleeps;
    private volatile long kickWakes;
    private boolean idling;
    private boolean synced;
    private long idleSinceNanos;

    /**
     * @param queues               the device's rings (agent thread's).
     * @param kickFds              their kick eventfds; a ring without one (-1, the front end polls) keeps the thread polling.
     * @param quiescent            true when nothing is in flight (agent thread).
     * @param idleBeforeSleepNanos how long without work before the thread blocks.
     * @param sleepTimeoutMillis   the longest wait.
     */
    public KickWaiter(final DeviceQueue[] queues, final int[] kickFds, final BooleanSupplier quiescent,
        final long idleBeforeSleepNanos, final int sleepTimeoutMillis)
    {
        if (queues.length != kickFds.length)
        {
            throw new IllegalArgumentException(queues.length + " queues but " + kickFds.length + " kick fds");
        }
        if (sleepTimeoutMillis < 1)
        {
            throw new IllegalArgumentException("sleep timeout must be >= 1 ms: " + sleepTimeoutMillis);
        }
        this.queues = queues.clone();
        this.kickFds = kickFds.clone();
        this.quiescent = quiescent;
        this.idleBeforeSleepNanos = idleBeforeSleepNanos;
        this.sleepTimeoutMillis = sleepTimeoutMillis;
        maxEvents = kickFds.length + 1;
        events = new UnsafeBuffer(BufferUtil.allocateDirectAligned(align(maxEvents * EVENT_LENGTH), 8));
        scratch = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8, 8));
        epollFd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        wakeFd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        boolean ok = epollFd >= 0 && wakeFd >= 0 && add(wakeFd, WAKE_TOKEN);
        for (int q = 0; q < kickFds.length; q++)
        {
            ok &= kickFds[q] >= 0 && add(kickFds[q], q);
        }
        canSleep = ok;
    }

    /** Whether this waiter can block at all (every ring has a kick fd and epoll was set up). */
    public boolean canSleep()
    {
        return canSleep;
    }

    /** How many times the thread blocked (or tried to and found work). */
    public long sleeps()
    {
        return sleeps;
    }

    /** How many waits a kick ended. */
    public long kickWakes()
    {
        return kickWakes;
    }

    /** Ends a wait in progress and every later one: the thread polls from now on. Any thread. */
    public void wake()
    {
        woken = true;
        scratchWrite();
    }

    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            idling = false;
            backoff.reset();
            return;
        }
        idle();
    }

    public void idle()
    {
        if (!synced)
        {
            // used.flags may still hold NO_NOTIFY from an earlier run over these rings: own it.
            synced = true;
            for (final DeviceQueue queue : queues)
            {
                queue.disableNotifications();
            }
        }
        final long now = System.nanoTime();
        if (!idling)
        {
            idling = true;
            idleSinceNanos = now;
        }
        if (!canSleep || woken || now - idleSinceNanos < idleBeforeSleepNanos || !quiescent.getAsBoolean())
        {
            backoff.idle();
            return;
        }
        sleep();
        idling = false;
        backoff.reset();
    }

    public void reset()
    {
        idling = false;
        backoff.reset();
    }

    public String alias()
    {
        return "kick-waiter";
    }

    public void close()
    {
        woken = true;
        if (epollFd >= 0)
        {
            Libc.close(epollFd);
        }
        if (wakeFd >= 0)
        {
            Libc.close(wakeFd);
        }
    }

    private void sleep()
    {
        sleeps = sleeps + 1;
        boolean pending = false;
        for (final DeviceQueue queue : queues)
        {
            // Arm every ring before looking: a chain published after the look has its kick.
            pending |= queue.enableNotifications();
        }
        if (!pending)
        {
            final int n = Libc.epoll_wait(epollFd, events.addressOffset(), maxEvents, sleepTimeoutMillis);
            for (int i = 0; i < n; i++)
            {
                final long token = events.getLong(i * EVENT_LENGTH + EVENT_DATA_OFFSET);
                if (token == WAKE_TOKEN)
                {
                    continue; // left set: every later epoll_wait returns at once, and none follows
                }
                // Readable, so this read does not block even on a blocking eventfd.
                Libc.read(kickFds[(int)token], scratch.addressOffset(), 8);
                kickWakes = kickWakes + 1;
            }
        }
        for (final DeviceQueue queue : queues)
        {
            queue.disableNotifications();
        }
    }

    private boolean add(final int fd, final long token)
    {
        final UnsafeBuffer event = new UnsafeBuffer(BufferUtil.allocateDirectAligned(16, 8));
        event.putInt(0, Libc.EPOLLIN);
        event.putLong(EVENT_DATA_OFFSET, token);
        return Libc.epoll_ctl(epollFd, Libc.EPOLL_CTL_ADD, fd, event.addressOffset()) == 0;
    }

    private void scratchWrite()
    {
        if (wakeFd >= 0)
        {
            final UnsafeBuffer one = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8, 8));
            one.putLong(0, 1L);
            Libc.write(wakeFd, one.addressOffset(), 8);
        }
    }

    private static int align(final int length)
    {
        return (length + 7) & ~7;
    }
}
