package dev.braid.aggregator;

import dev.braid.mapper.QueueMap;
import dev.braid.mapper.QueueMapPublisher;
import dev.braid.mapper.RouteSelector;
import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The agent that owns one guest virtqueue: it pops chains, routes them to card queues through the
 * current {@link QueueMap}, takes completions back, and publishes them to the guest.
 *
 * <p>The in-flight table, indexed by head id, is the single source of truth for what the guest is
 * still owed. Every entry is FREE, PENDING (waiting for a route or ring space) or SUBMITTED (on a
 * card, with an attempt number). A completion counts only if its token's attempt is the entry's
 * current one; anything else is stale and dropped, so the guest never sees a duplicate. What a card
 * reports after its fence never gets here: the card's {@link CompletionGate} drops it.
 *
 * <p>A request that meets trouble (a path error, a fence, no route) has until
 * {@code noPathTimeout} after the first trouble to complete: replays do not restart the clock, so a
 * card that flaps, or passes probes but cannot serve, cannot keep a request waiting for ever.
 */
public final class FrontQueue implements Agent, CompletionHandler
{
    static final byte FREE = 0;
    static final byte PENDING = 1;
    static final byte SUBMITTED = 2;

    private static final int NO_CARD = -1;
    private static final long NO_TROUBLE = Long.MIN_VALUE;

    private final int guestQueue;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final RequestHandler handler;
    private final QueueMapPublisher maps;
    private final RouteSelector selector;
    private final ManyToOneCompletionRing completions;
    private final CardPort[] ports;
    private final InterruptSink interrupts;
    private final NanoClock clock;
    private final HealthReporter health;
    private final FailoverTracker failovers;
    private final QueueStats stats;
    private final int batch;
    private final long noPathTimeoutNanos;
    private final long ageReportIntervalNanos;
    private final int maxAttempts;

    private final byte[] state;
    private final int[] route;
    private final int[] attempt;
    // Attempt numbers keep counting across reuses of a head, so that a late completion from an
    // earlier use of the same head (a zombie's, or a cancelled one) can never match a new request.
    private final int[] firstAttempt;
    private final int[] fenceGeneration;
    private final long[] popNanos;
    private final long[] submitNanos;
    // When the head first met trouble (path error, fence, no route); NO_TROUBLE until then.
    private final long[] troubleSince;
    private final int[] avoidCard;
    private final int[] replayedFrom;
    private final int[] pending;
    private final long[] oldestPerCard;
    private final int[] seenFenceGeneration;
    private final AtomicIntegerArray outstanding;
    private final DrainCoordinator drains;
    private long ackedDrain = DrainCoordinator.NO_DRAIN;
    private boolean draining;
    private int pendingHead;
    private int pendingCount;
    private int inFlight;

    private QueueMap map;
    private long seenEpoch = -1;
    private boolean usedStaged;
    private boolean protocolBroken;
    private long nextAgeReportNanos;
    private long now;

    public FrontQueue(
        final int guestQueue,
        final DeviceQueue queue,
        final RequestHandler handler,
        final QueueMapPublisher maps,
        final RouteSelector selector,
        final CardPort[] ports,
        final InterruptSink interrupts,
        final NanoClock clock,
        final HealthReporter health,
        final FailoverTracker failovers,
        final DrainCoordinator drains,
        final AggregatorContext context)
    {
        this.guestQueue = guestQueue;
        this.queue = queue;
        this.handler = handler;
        this.maps = maps;
        this.selector = selector;
        this.ports = ports;
        this.interrupts = interrupts;
        this.clock = clock;
        this.health = health;
        this.failovers = failovers;
        this.batch = context.batchSize();
        this.noPathTimeoutNanos = context.noPathTimeoutNanos();
        this.ageReportIntervalNanos = context.ageReportIntervalNanos();
        this.maxAttempts = context.maxAttempts();
        this.stats = new QueueStats(ports.length);

        final int size = queue.size();
        this.chain = new DescriptorChain(Math.max(size, context.maxSegments()));
        this.completions = new ManyToOneCompletionRing(ringCapacity(size));
        state = new byte[size];
        route = new int[size];
        attempt = new int[size];
        firstAttempt = new int[size];
        fenceGeneration = new int[size];
        popNanos = new long[size];
        submitNanos = new long[size];
        troubleSince = new long[size];
        avoidCard = new int[size];
        replayedFrom = new int[size];
        pending = new int[size];
        oldestPerCard = new long[ports.length];
        seenFenceGeneration = new int[ports.length];
        outstanding = new AtomicIntegerArray(ports.length);
        this.drains = drains;
    }

    static int ringCapacity(final int queueSize)
    {
        // Room for every head's live completion plus stale ones from zombies and cancels.
        int capacity = 64;
        while (capacity < queueSize * 4)
        {
            capacity <<= 1;
        }
        return capacity;
    }

    public String roleName()
    {
        return "braid-front-queue-" + guestQueue;
    }

    public int guestQueue()
    {
        return guestQueue;
    }

    public RequestHandler handler()
    {
        return handler;
    }

    public ManyToOneCompletionRing completions()
    {
        return completions;
    }

    public QueueStats stats()
    {
        return stats;
    }

    /** Requests popped from the guest and not yet completed to it. Front queue thread. */
    public int inFlight()
    {
        return inFlight;
    }

    public int doWork()
    {
        now = clock.nanoTime();
        int work = 0;

        work += completions.drain(this, batch);
        work += recheckFences();
        checkDrain();

        // One volatile read per batch, after the drain check: the controller publishes a move
        // before it retires the drain ticket, so a queue that saw its ticket go sees the move.
        final QueueMap current = maps.current();
        if (current.epoch() != seenEpoch)
        {
            // Fences were already rechecked above; requests on cards the new map dropped without
            // fencing them (a drain) finish where they are.
            map = current;
            seenEpoch = current.epoch();
        }

        if (!draining)
        {
            work += dispatchPending();
        }
        if (!queue.isBroken() && !protocolBroken)
        {
            work += popAvailable();
        }

        if (usedStaged)
        {
            usedStaged = false;
            queue.publishUsed();
            handler.onPublished();
            if (queue.needsInterrupt())
            {
                stats.increment(QueueStats.INTERRUPTS);
                interrupts.interrupt(guestQueue);
            }
        }

        if (now >= nextAgeReportNanos)
        {
            nextAgeReportNanos = now + ageReportIntervalNanos;
            reportAges();
        }
        return work;
    }

    // ---------------------------------------------------------------- completions

    public void onCompletion(final long token, final int status, final int length)
    {
        final int head = CompletionToken.head(token);
        if (CompletionToken.guestQueue(token) != guestQueue || head >= state.length ||
            state[head] != SUBMITTED || !CompletionToken.isAttempt(token, attempt[head]) ||
            !CompletionToken.isGeneration(token, fenceGeneration[head]))
        {
            stats.increment(QueueStats.STALE_DROPPED);
            return;
        }

        final int r = route[head];
        final int card = QueueMap.cardOf(r);
        leaveCard(card);
        selector.onComplete(r, now - submitNanos[head]);
        if (handler.isPathFailure(status))
        {
            stats.onCardError(card);
            // A cancel from a card being fenced is the failover itself, not an error of the card.
            final CardPort port = ports[card];
            final boolean fenced = port.isFenced() || port.fenceGeneration() != fenceGeneration[head];
            if (!fenced)
            {
                health.onError(card, now);
            }
            avoidCard[head] = card;
            replay(head, card, fenced);
            return;
        }
        health.onSuccess(card, now);
        stats.onCardCompleted(card);
        if (replayedFrom[head] != NO_CARD)
        {
            failovers.onReplayCompleted(replayedFrom[head], now);
        }
        finish(head, handler.complete(head, status, length));
    }

    /**
     * Sends a request again. Only replays forced by a fence count toward the card's failover
     * stall; a path error on a card that is not fenced is a retry, not a failover.
     */
    private void replay(final int head, final int fromCard, final boolean fenced)
    {
        attempt[head]++;
        if (troubleSince[head] == NO_TROUBLE)
        {
            troubleSince[head] = now;
        }
        // A request in trouble for the whole deadline has found no working path, however many
        // cards came and went meanwhile. (Fail-fast, deadline 0, fails when the map empties.)
        if (attempt[head] - firstAttempt[head] >= maxAttempts ||
            (!handler.isPull() && noPathTimeoutNanos > 0 && now - troubleSince[head] >= noPathTimeoutNanos))
        {
            stats.increment(QueueStats.FAILED_NO_PATH);
            finish(head, handler.fail(head));
            return;
        }
        stats.increment(QueueStats.REPLAYED);
        if (fenced)
        {
            replayedFrom[head] = fromCard;
        }
        toPending(head);
    }

    private void finish(final int head, final int usedLength)
    {
        queue.addUsed(head, Math.max(usedLength, 0));
        usedStaged = true;
        state[head] = FREE;
        inFlight--;
        stats.recordLatency(now - popNanos[head]);
        stats.increment(QueueStats.COMPLETED);
    }

    // ---------------------------------------------------------------- re-homing

    /** Replays every submitted request whose card was fenced after it was submitted. */
    private int recheckFences()
    {
        int replayed = 0;
        for (final CardPort port : ports)
        {
            if (port == null)
            {
                continue;
            }
            final int card = port.index();
            final int generation = port.fenceGeneration();
            if (generation == seenFenceGeneration[card])
            {
                continue;
            }
            // A pulled buffer is filled by the card's worker, not the card: the fence does not stop a
            // receive already begun, so wait until the workers finished their pre-fence cycles.
            if (handler.isPull() && !port.workersCaughtUp(generation))
            {
                continue;
            }
            seenFenceGeneration[card] = generation;
            for (int head = 0; head < state.length; head++)
            {
                if (state[head] == SUBMITTED && QueueMap.cardOf(route[head]) == card &&
                    fenceGeneration[head] != generation)
                {
                    leaveCard(card);
                    avoidCard[head] = card;
                    replay(head, card, true);
                    replayed++;
                }
            }
        }
        return replayed;
    }

    // ---------------------------------------------------------------- dispatch

    private int popAvailable()
    {
        int work = 0;
        while (work < batch && inFlight < state.length)
        {
            final int result = queue.pop(chain);
            if (result == ChainStatus.EMPTY)
            {
                break;
            }
            work++;
            if (result == ChainStatus.POPPED)
            {
                final int head = chain.id();
                if (state[head] != FREE)
                {
                    // The driver made a head available twice: its ring is corrupt; stop popping.
                    protocolBroken = true;
                    stats.increment(QueueStats.NEEDS_RESET);
                    break;
                }
                stats.increment(QueueStats.POPPED);
                state[head] = PENDING;
                inFlight++;
                popNanos[head] = now;
                attempt[head]++;
                firstAttempt[head] = attempt[head];
                avoidCard[head] = NO_CARD;
                replayedFrom[head] = NO_CARD;
                troubleSince[head] = NO_TROUBLE;
                final int prepared = handler.prepare(head, chain);
                if (prepared != RequestHandler.SUBMIT)
                {
                    stats.increment(QueueStats.BAD_REQUESTS);
                    finish(head, prepared);
                    continue;
                }
                toPending(head);
            }
            else if (ChainStatus.isChainError(result))
            {
                // The head is known: hand it back with nothing written.
                stats.increment(QueueStats.BAD_REQUESTS);
                queue.addUsed(chain.id(), 0);
                usedStaged = true;
            }
            else
            {
                stats.increment(QueueStats.NEEDS_RESET);
                break;
            }
        }
        if (work > 0 && !draining)
        {
            dispatchPending();
        }
        return work;
    }

    private void toPending(final int head)
    {
        state[head] = PENDING;
        int tail = pendingHead + pendingCount;
        if (tail >= pending.length)
        {
            tail -= pending.length;
        }
        pending[tail] = head;
        pendingCount++;
    }

    private void popPending()
    {
        pendingHead = pendingHead + 1 == pending.length ? 0 : pendingHead + 1;
        pendingCount--;
    }

    /** Dispatches waiting requests in order; fails them at the no-path deadline. */
    private int dispatchPending()
    {
        int work = 0;
        while (pendingCount > 0)
        {
            final int head = pending[pendingHead];
            if (!dispatch(head))
            {
                final boolean noRoute = map.routeCount(guestQueue) == 0;
                if (noRoute && troubleSince[head] == NO_TROUBLE)
                {
                    troubleSince[head] = now;
                }
                // A pulled buffer (net rx) has nothing to fail: like a NIC without link it is held.
                if (!handler.isPull() && troubleSince[head] != NO_TROUBLE &&
                    (noRoute || noPathTimeoutNanos > 0) && now - troubleSince[head] >= noPathTimeoutNanos)
                {
                    popPending();
                    stats.increment(QueueStats.FAILED_NO_PATH);
                    finish(head, handler.fail(head));
                    work++;
                    continue;
                }
                break;
            }
            popPending();
            work++;
        }
        return work;
    }

    private boolean dispatch(final int head)
    {
        final QueueMap map = this.map;
        final int routes = map.routeCount(guestQueue);
        if (routes == 0)
        {
            return false;
        }
        int index = routes == 1 ? 0 : selector.select(map, guestQueue, handler.flowHash(head));
        int r = map.route(guestQueue, index);
        if (routes > 1 && QueueMap.cardOf(r) == avoidCard[head])
        {
            index = index + 1 == routes ? 0 : index + 1;
            r = map.route(guestQueue, index);
        }
        final int card = QueueMap.cardOf(r);
        final CardPort port = ports[card];
        if (port == null || port.isFenced())
        {
            return false;
        }
        final int generation = port.fenceGeneration();
        final long token = CompletionToken.encode(guestQueue, head, generation, attempt[head]);
        if (!port.submissionRing(QueueMap.queueOf(r)).offer(token))
        {
            return false;
        }
        state[head] = SUBMITTED;
        route[head] = r;
        fenceGeneration[head] = generation;
        submitNanos[head] = now;
        selector.onSubmit(r);
        stats.onCardSubmitted(card);
        // Single writer: a release store is enough for readers on other threads.
        outstanding.lazySet(card, outstanding.get(card) + 1);
        return true;
    }

    private void leaveCard(final int card)
    {
        outstanding.lazySet(card, outstanding.get(card) - 1);
    }

    /**
     * A move of this guest queue between cards waits until nothing of it is on a card, so the
     * requests that follow cannot overtake those before: per-queue order is kept.
     */
    private void checkDrain()
    {
        final long ticket = drains.pendingDrain();
        if (ticket == DrainCoordinator.NO_DRAIN || DrainCoordinator.guestQueueOf(ticket) != guestQueue)
        {
            draining = false;
            return;
        }
        if (ticket == ackedDrain)
        {
            // Acknowledged; the coordinator replaces the ticket only after publishing the move.
            draining = true;
            return;
        }
        draining = true;
        // Rx buffers carry no order: a pull queue moves at once; its held buffers fill where they are.
        if ((handler.isPull() || submittedCount() == 0) && drains.drained(ticket))
        {
            ackedDrain = ticket;
        }
    }

    private int submittedCount()
    {
        int count = 0;
        for (int card = 0; card < outstanding.length(); card++)
        {
            count += outstanding.get(card);
        }
        return count;
    }

    /** Requests of this queue now on {@code card}; any thread may read it. */
    public int outstanding(final int card)
    {
        return outstanding.get(card);
    }

    // ---------------------------------------------------------------- health

    private void reportAges()
    {
        final long[] oldest = oldestPerCard;
        Arrays.fill(oldest, Long.MAX_VALUE);
        if (inFlight > 0)
        {
            for (int head = 0; head < state.length; head++)
            {
                if (state[head] == SUBMITTED && !handler.isPull())
                {
                    final int card = QueueMap.cardOf(route[head]);
                    if (submitNanos[head] < oldest[card])
                    {
                        oldest[card] = submitNanos[head];
                    }
                }
            }
        }
        for (int card = 0; card < oldest.length; card++)
        {
            health.onOldestInflightAge(card, oldest[card] == Long.MAX_VALUE ? 0 : now - oldest[card], now);
        }
    }

    // ---------------------------------------------------------------- inspection (tests, soak)

    /** Whether the guest queue's ring is broken (the device needs a reset). */
    public boolean isBroken()
    {
        return queue.isBroken() || protocolBroken;
    }

    public DeviceQueue deviceQueue()
    {
        return queue;
    }
}
