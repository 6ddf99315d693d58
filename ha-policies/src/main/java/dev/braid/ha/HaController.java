package dev.braid.ha;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

import dev.braid.mapper.QueueMap;
import dev.braid.mapper.QueueMapPublisher;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The HA agent: owns the {@link HealthMonitor}, the {@link CardPool}, a {@link MapPolicy} and the
 * {@link QueueMapPublisher}. Each {@link #doWork()} takes the inputs other threads reported, ticks
 * the health machines, sends due probes, and when anything changed re-homes guest queues with
 * one volatile publication; moves between usable cards run as a drained {@link RebalancePlan}.
 *
 * <p>Intake, from any thread, allocation-free: frequent inputs (errors, successes, oldest
 * in-flight age) are per-card atomic counters, coalesced and never lost; rare ordered events
 * (link, probe results, pool operations, drain acks, failback) go through an Agrona many-to-one
 * ring and their methods return false when it is full (the caller retries).
 *
 * <p>Drain protocol for a move: {@link #pendingDrain()} names a ticket whose low 16 bits are the
 * guest queue. That queue's owner stops dispatching, waits until its in-flight requests complete,
 * then calls {@link #onGuestQueueDrained(long)} with the ticket. The controller publishes the map
 * with the move and only then replaces the ticket, so an owner that sees its ticket gone and then
 * reads the map sees the move (or a later map). A move is abandoned if anything else changes the map.
 *
 * <p>All time comes from the {@link NanoClock} given at construction (virtual in simulation).
 * {@link #doWork()} allocates nothing unless the map changes.
 */
public final class HaController implements Agent
{
    /** {@link #pendingDrain()} when no guest queue must drain. */
    public static final long NO_DRAIN = -1;
    /** {@link #allDownSinceNanos()} while some card is usable. */
    public static final long NOT_ALL_DOWN = Long.MIN_VALUE;

    private static final int INTAKE_BYTES = 64 * 1024;
    private static final int EVENT_LIMIT = 64;

    private final NanoClock clock;
    private final CardPool pool;
    private final MapPolicy policy;
    private final AllDownPolicy allDownPolicy;
    private final ProbeRequester probes;
    private final HealthMonitor monitor;
    private final QueueMapPublisher publisher;
    private final FailoverLog log;
    private final ManyToOneRingBuffer intake;
    private final MessageHandler handler = this::onEvent;
    private final AtomicLongArray errors;
    private final AtomicLongArray successes;
    private final AtomicLongArray ages;
    private final long[] errorsSeen;
    private final long[] successesSeen;

    // Log entries of this doWork, stamped with the resulting epoch when flushed.
    private final int[] pendingCard;
    private final byte[] pendingFrom;
    private final byte[] pendingTo;
    private final byte[] pendingReason;
    private final long[] pendingTime;
    private int pendingCount;

    private long nowNanos;
    private boolean dirty;
    private RebalancePlan plan;
    private int move;
    private boolean replanAfter;
    private long ticketSeq;
    private long reevaluateAtNanos = Long.MAX_VALUE;
    private final AtomicLong droppedEvents = new AtomicLong();
    private volatile long pendingDrain = NO_DRAIN;
    private volatile long allDownSince = NOT_ALL_DOWN;
    private volatile long lastServedNanos;
    /** Each card's health ordinal as last set by the controller, -1 when not in the pool: for other threads. */
    private final AtomicIntegerArray publishedHealth;

    /**
     * @param pool        the cards at start (health UP, PROBING or DOWN as given); owned by the controller from now on.
     * @param logCapacity entries kept in the {@link FailoverLog}.
     */
    public HaController(
        final NanoClock clock,
        final HealthConfig healthConfig,
        final CardPool pool,
        final MapPolicy policy,
        final AllDownPolicy allDownPolicy,
        final ProbeRequester probes,
        final int logCapacity)
    {
        this.clock = clock;
        this.pool = pool;
        this.policy = policy;
        this.allDownPolicy = allDownPolicy;
        this.probes = probes;
        this.monitor = new HealthMonitor(healthConfig, pool.maxCards(), this::onTransition);
        this.log = new FailoverLog(logCapacity);
        // Direct and cache-line aligned: the ring's atomic counters need 8-byte alignment.
        final AtomicBuffer buffer = new UnsafeBuffer(
            BufferUtil.allocateDirectAligned(INTAKE_BYTES + RingBufferDescriptor.TRAILER_LENGTH, 64));
        this.intake = new ManyToOneRingBuffer(buffer);
        final int max = pool.maxCards();
        errors = new AtomicLongArray(max);
        successes = new AtomicLongArray(max);
        ages = new AtomicLongArray(max);
        publishedHealth = new AtomicIntegerArray(max);
        errorsSeen = new long[max];
        successesSeen = new long[max];
        for (int c = 0; c < max; c++)
        {
            ages.set(c, -1);
            publishedHealth.set(c, -1);
        }
        // At most one transition per event and five per card per doWork; overflow flushes early.
        final int pendingCapacity = EVENT_LIMIT + 5 * max;
        pendingCard = new int[pendingCapacity];
        pendingFrom = new byte[pendingCapacity];
        pendingTo = new byte[pendingCapacity];
        pendingReason = new byte[pendingCapacity];
        pendingTime = new long[pendingCapacity];

        nowNanos = clock.nanoTime();
        lastServedNanos = nowNanos;
        for (int i = 0; i < pool.size(); i++)
        {
            final int c = pool.cardAt(i);
            final HealthState h = pool.health(c) == HealthState.SUSPECT ? HealthState.UP : pool.health(c);
            pool.setHealth(c, h, nowNanos);
            publishedHealth.set(c, h.ordinal());
            monitor.addCard(c, h, nowNanos);
        }
        final QueueMap empty = QueueMap.builder(policy.guestQueueCount()).build(0);
        final QueueMap initial = policy.repair(empty, pool, nowNanos);
        updateAllDown();
        publisher = new QueueMapPublisher(initial);
        startPlan();
    }

    public String roleName()
    {
        return "braid-ha";
    }

    public int doWork()
    {
        nowNanos = clock.nanoTime();
        int work = intake.read(handler, EVENT_LIMIT);
        work += drainCounters();
        monitor.tick(nowNanos);
        work += sendProbes();
        if (dirty)
        {
            dirty = false;
            remap();
            work++;
        }
        else if (plan == null && nowNanos >= reevaluateAtNanos)
        {
            startPlan();
            work++;
        }
        flushLog();
        return work;
    }

    // ---- intake, any thread ----

    /** Counts one failed request on {@code card}. Wait-free; false for an id outside the pool's range. */
    public boolean onError(final int card)
    {
        if (!inRange(card))
        {
            return false;
        }
        errors.incrementAndGet(card);
        return true;
    }

    /** Counts one good completion on {@code card}. Wait-free. */
    public boolean onSuccess(final int card)
    {
        if (!inRange(card))
        {
            return false;
        }
        successes.incrementAndGet(card);
        return true;
    }

    /** Reports the age of the oldest request in flight on {@code card}; the latest report wins. */
    public boolean onOldestInflightAge(final int card, final long ageNanos)
    {
        if (!inRange(card) || ageNanos < 0)
        {
            return false;
        }
        // Several front queues report per card: keep the oldest seen since the last doWork.
        ages.accumulateAndGet(card, ageNanos, Math::max);
        return true;
    }

    public boolean onLinkChange(final int card, final boolean up)
    {
        return offer(HaEventDescriptor.LINK, card, up ? 1 : 0, 0);
    }

    public boolean onProbeResult(final int card, final boolean ok)
    {
        return onProbeResult(card, ok, 0);
    }

    /**
     * A probe's answer and how long it took (0 when unknown). One that took the completion timeout
     * or longer counts as failed, see {@link CardHealth#onProbeResult(boolean, long, long)}.
     */
    public boolean onProbeResult(final int card, final boolean ok, final long latencyNanos)
    {
        return offer(HaEventDescriptor.PROBE_RESULT, card, ok ? 1 : 0, Math.max(0, latencyNanos));
    }

    /** Adds a card (UP) at the lowest priority; the map is rebalanced by a drained plan. */
    public boolean hotAdd(final int card, final int queueCount)
    {
        return offer(HaEventDescriptor.HOT_ADD, card, queueCount, 0);
    }

    /**
     * Starts removing a card: it becomes REMOVING and a map without it is published. Once the
     * aggregator has drained its in-flight requests it calls {@link #onCardDrained(int)}.
     */
    public boolean hotRemove(final int card)
    {
        return offer(HaEventDescriptor.HOT_REMOVE, card, 0, 0);
    }

    /** The REMOVING card has nothing in flight any more: drop it from the pool. */
    public boolean onCardDrained(final int card)
    {
        return offer(HaEventDescriptor.CARD_DRAINED, card, 0, 0);
    }

    /** Acknowledges the drain named by {@code ticket} (see {@link #pendingDrain()}). */
    public boolean onGuestQueueDrained(final long ticket)
    {
        return offer(HaEventDescriptor.GUEST_QUEUE_DRAINED, 0, 0, ticket);
    }

    /** Requests an active-passive failback (see {@link ActivePassivePolicy#failback()}). */
    public boolean failback()
    {
        return offer(HaEventDescriptor.FAILBACK, 0, 0, 0);
    }

    // ---- readable from any thread ----

    public QueueMapPublisher publisher()
    {
        return publisher;
    }

    public FailoverLog failoverLog()
    {
        return log;
    }

    /** The drain ticket of the move in progress, or {@link #NO_DRAIN}. */
    public long pendingDrain()
    {
        return pendingDrain;
    }

    /** The guest queue a drain ticket names. */
    public static int guestQueueOf(final long ticket)
    {
        return (int)(ticket & 0xFFFF);
    }

    /**
     * When the last usable card went, or {@link #NOT_ALL_DOWN}. Written before the empty map is
     * published, so a front queue that found no route and then reads this sees the time; if it
     * reads {@link #NOT_ALL_DOWN} a card came back and it re-reads the map.
     */
    public long allDownSinceNanos()
    {
        return allDownSince;
    }

    /**
     * The controller-clock time of the last duty cycle that counted a good completion on any card
     * (the controller's construction time until the first). Readable from any thread. While cards
     * flap (UP for a moment, then DOWN again) {@link #allDownSinceNanos()} keeps resetting, but this
     * does not move unless a request really succeeded: "no card has served since T". Resolution is
     * one controller duty cycle.
     */
    public long lastServedNanos()
    {
        return lastServedNanos;
    }

    /**
     * {@code card}'s health as the controller last set it, or null when it is not in the pool.
     * Readable from any thread (a snapshot, unlike {@link #pool()}).
     */
    public HealthState healthOf(final int card)
    {
        if (!inRange(card))
        {
            return null;
        }
        final int ordinal = publishedHealth.get(card);
        return ordinal < 0 ? null : HealthState.of(ordinal);
    }

    public AllDownPolicy allDownPolicy()
    {
        return allDownPolicy;
    }

    /** WAIT or FAIL for a request that found no route; WAIT when a card is usable again (re-read the map). */
    public AllDownAction allDownAction(final long nowNanos)
    {
        final long since = allDownSince;
        return since == NOT_ALL_DOWN ? AllDownAction.WAIT : allDownPolicy.allDownAction(nowNanos, since);
    }

    /** Events the ring refused because it was full. */
    public long droppedEvents()
    {
        return droppedEvents.get();
    }

    // ---- controller thread only: the thread that runs doWork (in Braid's aggregator, the one
    // control conductor that runs this controller and the control plane together) ----

    public HealthMonitor monitor()
    {
        return monitor;
    }

    public CardPool pool()
    {
        return pool;
    }

    public MapPolicy policy()
    {
        return policy;
    }

    /** The plan being executed, or null. */
    public RebalancePlan plan()
    {
        return plan;
    }

    private boolean offer(final int type, final int card, final int intArg, final long longArg)
    {
        final int index = intake.tryClaim(type, HaEventDescriptor.LENGTH);
        if (index < 0)
        {
            droppedEvents.incrementAndGet();
            return false;
        }
        final AtomicBuffer buffer = intake.buffer();
        buffer.putInt(index + HaEventDescriptor.CARD_OFFSET, card);
        buffer.putInt(index + HaEventDescriptor.INT_ARG_OFFSET, intArg);
        buffer.putLong(index + HaEventDescriptor.LONG_ARG_OFFSET, longArg);
        intake.commit(index); // release: the body is visible before the record
        return true;
    }

    private void onEvent(final int type, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final int card = buffer.getInt(index + HaEventDescriptor.CARD_OFFSET);
        final int intArg = buffer.getInt(index + HaEventDescriptor.INT_ARG_OFFSET);
        final long longArg = buffer.getLong(index + HaEventDescriptor.LONG_ARG_OFFSET);
        switch (type)
        {
            case HaEventDescriptor.LINK:
                if (monitor.contains(card))
                {
                    monitor.onLinkChange(card, intArg != 0, nowNanos);
                }
                break;
            case HaEventDescriptor.PROBE_RESULT:
                if (monitor.contains(card))
                {
                    monitor.onProbeResult(card, intArg != 0, longArg, nowNanos);
                }
                break;
            case HaEventDescriptor.HOT_ADD:
                addCard(card, intArg);
                break;
            case HaEventDescriptor.HOT_REMOVE:
                if (pool.contains(card) && pool.membership(card) == Membership.ACTIVE)
                {
                    pool.markRemoving(card);
                    pending(card, pool.health(card), pool.health(card), TransitionReason.REMOVING);
                    dirty = true;
                }
                break;
            case HaEventDescriptor.CARD_DRAINED:
                dropIfDrained(card);
                break;
            case HaEventDescriptor.GUEST_QUEUE_DRAINED:
                onMoveDrained(longArg);
                break;
            case HaEventDescriptor.FAILBACK:
                if (policy instanceof ActivePassivePolicy)
                {
                    ((ActivePassivePolicy)policy).failback();
                    if (plan == null)
                    {
                        startPlan();
                    }
                    else
                    {
                        replanAfter = true;
                    }
                }
                break;
            default:
                break;
        }
    }

    private void addCard(final int card, final int queueCount)
    {
        if (!inRange(card) || pool.contains(card) || queueCount <= 0 || queueCount > 0x10000)
        {
            return;
        }
        pool.add(card, queueCount, HealthState.UP, nowNanos);
        publishedHealth.set(card, HealthState.UP.ordinal());
        monitor.addCard(card, HealthState.UP, nowNanos);
        errorsSeen[card] = errors.get(card);
        successesSeen[card] = successes.get(card);
        ages.set(card, -1);
        pending(card, HealthState.UP, HealthState.UP, TransitionReason.HOT_ADD);
        dirty = true;
    }

    private void dropIfDrained(final int card)
    {
        if (pool.contains(card) && pool.membership(card) == Membership.REMOVING && !publisher.current().usesCard(card))
        {
            final HealthState h = pool.health(card);
            pool.remove(card);
            publishedHealth.set(card, -1);
            monitor.removeCard(card);
            pending(card, h, h, TransitionReason.REMOVED);
        }
    }

    private int drainCounters()
    {
        int work = 0;
        final int maxErrors = monitor.config().downAfterErrors();
        for (int i = 0; i < pool.size(); i++)
        {
            final int c = pool.cardAt(i);
            final long e = errors.get(c);
            if (e != errorsSeen[c])
            {
                final long n = Math.min(e - errorsSeen[c], maxErrors);
                errorsSeen[c] = e;
                for (long k = 0; k < n; k++)
                {
                    monitor.onError(c, nowNanos);
                }
                work++;
            }
            final long s = successes.get(c);
            if (s != successesSeen[c])
            {
                successesSeen[c] = s;
                lastServedNanos = nowNanos;
                monitor.onSuccess(c, nowNanos);
                work++;
            }
            if (ages.get(c) >= 0)
            {
                final long age = ages.getAndSet(c, -1);
                if (age >= 0)
                {
                    monitor.onOldestInflightAge(c, age, nowNanos);
                    // An idle card reports age 0 every interval: not work, or the agent thread never parks.
                    if (age > 0)
                    {
                        work++;
                    }
                }
            }
        }
        return work;
    }

    private int sendProbes()
    {
        int work = 0;
        for (int i = 0; i < pool.size(); i++)
        {
            final CardHealth h = monitor.card(pool.cardAt(i));
            if (h.probeDue(nowNanos))
            {
                h.onProbeSent(nowNanos);
                probes.requestProbe(h.card());
                work++;
            }
        }
        return work;
    }

    private void onTransition(
        final int card, final HealthState from, final HealthState to, final long now, final TransitionReason reason)
    {
        if (pool.contains(card))
        {
            pool.setHealth(card, to, now);
            publishedHealth.set(card, to.ordinal());
        }
        pending(card, from, to, reason);
        dirty = true;
    }

    private void remap()
    {
        final QueueMap current = publisher.current();
        final QueueMap repaired = policy.repair(current, pool, nowNanos);
        updateAllDown();
        if (repaired != current)
        {
            abortPlan();
            publisher.publish(repaired); // release: front queues acquire it at their next batch
        }
        else if (plan != null && !remainingMovesUsable())
        {
            abortPlan(); // a move would land on (or drain from) a card that is no longer usable
        }
        if (plan == null)
        {
            startPlan();
        }
        else
        {
            replanAfter = true;
        }
    }

    private void startPlan()
    {
        final QueueMap current = publisher.current();
        final RebalancePlan next = policy.plan(current, pool, nowNanos);
        reevaluateAtNanos = policy.reevaluateAtNanos(current, pool, nowNanos);
        if (next.isEmpty() && reevaluateAtNanos <= nowNanos)
        {
            reevaluateAtNanos = Long.MAX_VALUE; // nothing to do now: do not re-plan on every doWork
        }
        if (!next.isEmpty())
        {
            plan = next;
            move = 0;
            replanAfter = false;
            requestDrain();
        }
    }

    private void requestDrain()
    {
        ticketSeq++;
        pendingDrain = ticketSeq << 16 | plan.guestQueue(move);
    }

    private void onMoveDrained(final long ticket)
    {
        if (plan == null || ticket != pendingDrain)
        {
            return; // stale: the move was abandoned
        }
        if (!pool.isUsable(QueueMap.cardOf(plan.fromRoute(move))) || !pool.isUsable(QueueMap.cardOf(plan.toRoute(move))))
        {
            abortPlan(); // a card of this move failed earlier in this batch; remap re-plans
            dirty = true;
            return;
        }
        final QueueMap next = plan.mapAfter(move);
        publisher.publish(next);
        final int card = QueueMap.cardOf(plan.toRoute(move));
        final HealthState h = pool.contains(card) ? pool.health(card) : HealthState.DOWN;
        pending(card, h, h, TransitionReason.REBALANCE_MOVE);
        move++;
        if (move < plan.size())
        {
            requestDrain(); // after the publish: the owner sees its ticket gone only with the new map visible
        }
        else
        {
            plan = null;
            pendingDrain = NO_DRAIN;
            if (replanAfter)
            {
                replanAfter = false;
                startPlan();
            }
        }
    }

    private boolean remainingMovesUsable()
    {
        for (int i = move; i < plan.size(); i++)
        {
            if (!pool.isUsable(QueueMap.cardOf(plan.fromRoute(i))) || !pool.isUsable(QueueMap.cardOf(plan.toRoute(i))))
            {
                return false;
            }
        }
        return true;
    }

    private void abortPlan()
    {
        plan = null;
        replanAfter = false;
        pendingDrain = NO_DRAIN;
    }

    private void updateAllDown()
    {
        if (pool.usableCount() > 0)
        {
            allDownSince = NOT_ALL_DOWN;
        }
        else if (allDownSince == NOT_ALL_DOWN)
        {
            allDownSince = nowNanos;
        }
    }

    private void pending(final int card, final HealthState from, final HealthState to, final TransitionReason reason)
    {
        if (pendingCount == pendingCard.length)
        {
            flushLog();
        }
        final int i = pendingCount++;
        pendingCard[i] = card;
        pendingFrom[i] = (byte)from.ordinal();
        pendingTo[i] = (byte)to.ordinal();
        pendingReason[i] = (byte)reason.ordinal();
        pendingTime[i] = nowNanos;
    }

    private void flushLog()
    {
        if (pendingCount == 0)
        {
            return;
        }
        final long epoch = publisher.current().epoch();
        for (int i = 0; i < pendingCount; i++)
        {
            log.append(pendingTime[i], pendingCard[i], HealthState.of(pendingFrom[i]), HealthState.of(pendingTo[i]),
                TransitionReason.of(pendingReason[i]), epoch);
        }
        pendingCount = 0;
    }

    private boolean inRange(final int card)
    {
        return card >= 0 && card < errorsSeen.length;
    }
}
