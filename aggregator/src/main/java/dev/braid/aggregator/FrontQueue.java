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
 * <p>The {@link InFlightTable}, indexed by head id, is the single source of truth for what the guest
 * is still owed. A completion counts only if its token names the entry's current attempt and
 * generation; anything else is stale and dropped, so the guest never sees a duplicate. What a card
 * reports after its fence never gets here: the card's {@link CompletionGate} drops it.
 *
 * <p>A request that meets trouble (a path error, a fence, no route) has until
 * {@code noPathTimeout} after the first trouble to complete: replays do not restart the clock, so a
 * card that flaps, or passes probes but cannot serve, cannot keep a request waiting for ever.
 */
public final class FrontQueue implements Agent, CompletionHandler
{
    private final int guestQueue;
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final RequestHandler<?> handler;
    // Pulled buffers (net rx) carry no order and have nothing to fail: see PullHandler.
    private final boolean pull;
    private final QueueMapPublisher maps;
    private final RouteSelector selector;
    private final ManyToOneCompletionRing completions;
    private final CardPort<?>[] ports;
    private final InterruptSink interrupts;
    private final NanoClock clock;
    private final HealthReporter health;
    private final FailoverTracker failovers;
    private final QueueStats stats;
    private final int batch;
    private final long noPathTimeoutNanos;
    private final long ageReportIntervalNanos;
    /** First back-off of a retry on the card that failed it (doubled per attempt, {@link #RETRY_BACKOFF_DOUBLINGS} times at most: 51 ms). */
    static final long RETRY_BACKOFF_MIN_NANOS = 50_000;
    static final int RETRY_BACKOFF_DOUBLINGS = 10;

    private final int maxAttempts;

    private final InFlightTable table;
    private final long[] oldestPerCard;
    private final int[] seenFenceGeneration;
    private final AtomicIntegerArray outstanding;
    private final DrainCoordinator drains;
    private long ackedDrain = DrainCoordinator.NO_DRAIN;
    private boolean draining;
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
        final RequestHandler<?> handler,
        final QueueMapPublisher maps,
        final RouteSelector selector,
        final CardPort<?>[] ports,
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
        this.pull = handler.asPull() != null;
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
        table = new InFlightTable(size);
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

    public RequestHandler<?> handler()
    {
        return handler;
    }

    /** Whether this queue's buffers are pulled by the card workers (net rx) rather than pushed to cards. */
    public boolean isPull()
    {
        return pull;
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

    /**
     * Whether guest head {@code head} was popped and not yet completed to the guest. Front queue
     * thread, or any thread once its agent stopped (a transport rewinding a ring it stopped).
     */
    public boolean holds(final int head)
    {
        return head >= 0 && head < table.entries() && !table.isFree(head);
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
        if (CompletionToken.guestQueue(token) != guestQueue || !table.isCurrent(head, token))
        {
            stats.increment(QueueStats.STALE_DROPPED);
            return;
        }

        final int r = table.route(head);
        final int card = QueueMap.cardOf(r);
        leaveCard(card);
        selector.onComplete(r, now - table.submitNanos(head));
        if (handler.isPathFailure(head, status))
        {
            stats.onCardError(card);
            // A cancel from a card being fenced is the failover itself, not an error of the card.
            final CardPort<?> port = ports[card];
            final boolean fenced = port.isFenced() || port.fenceGeneration() != table.fenceGeneration(head);
            if (!fenced)
            {
                health.onError(card, now);
            }
            table.avoidCard(head, card);
            replay(head, card, fenced);
            return;
        }
        health.onSuccess(card, now);
        stats.onCardCompleted(card);
        if (table.replayedFrom(head) != InFlightTable.NO_CARD)
        {
            failovers.onReplayCompleted(table.replayedFrom(head), now);
        }
        finish(head, handler.complete(head, status, length));
    }

    /**
     * Sends a request again. Only replays forced by a fence count toward the card's failover
     * stall; a path error on a card that is not fenced is a retry, not a failover.
     */
    private void replay(final int head, final int fromCard, final boolean fenced)
    {
        final int attempts = table.nextAttempt(head);
        table.markTrouble(head, now);
        // A request in trouble for the whole deadline has found no working path, however many
        // cards came and went meanwhile. (Fail-fast, deadline 0, fails when the map empties.)
        if (attempts >= maxAttempts ||
            (!pull && noPathTimeoutNanos > 0 && now - table.troubleSince(head) >= noPathTimeoutNanos))
        {
            stats.increment(QueueStats.FAILED_NO_PATH);
            finish(head, handler.fail(head));
            return;
        }
        stats.increment(QueueStats.REPLAYED);
        if (fenced)
        {
            table.replayedFrom(head, fromCard);
        }
        else
        {
            // A path error on a card the map still routes to (its only route, when queue-affine)
            // would come straight back to it: retry it there only after a back-off, doubling per
            // attempt, so a card that fails fast cannot use up the attempts before the HA remaps.
            table.retryAt(head, now + (RETRY_BACKOFF_MIN_NANOS << Math.min(attempts - 1, RETRY_BACKOFF_DOUBLINGS)));
        }
        table.enqueuePending(head);
    }

    private void finish(final int head, final int usedLength)
    {
        queue.addUsed(head, Math.max(usedLength, 0));
        usedStaged = true;
        table.free(head);
        inFlight--;
        stats.recordLatency(now - table.popNanos(head));
        stats.increment(QueueStats.COMPLETED);
    }

    // ---------------------------------------------------------------- re-homing

    /** Replays every submitted request whose card was fenced after it was submitted. */
    private int recheckFences()
    {
        int replayed = 0;
        for (final CardPort<?> port : ports)
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
            if (pull && !port.workersCaughtUp(generation))
            {
                continue;
            }
            seenFenceGeneration[card] = generation;
            for (int head = 0, size = table.entries(); head < size; head++)
            {
                if (table.isSubmitted(head) && QueueMap.cardOf(table.route(head)) == card &&
                    table.fenceGeneration(head) != generation)
                {
                    leaveCard(card);
                    table.avoidCard(head, card);
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
        while (work < batch && inFlight < table.entries())
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
                if (!table.isFree(head))
                {
                    // The driver made a head available twice: its ring is corrupt; stop popping.
                    protocolBroken = true;
                    stats.increment(QueueStats.NEEDS_RESET);
                    break;
                }
                stats.increment(QueueStats.POPPED);
                table.begin(head, now);
                inFlight++;
                final int prepared = handler.prepare(head, chain);
                if (prepared != RequestHandler.SUBMIT)
                {
                    stats.increment(QueueStats.BAD_REQUESTS);
                    finish(head, prepared);
                    continue;
                }
                table.enqueuePending(head);
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

    /** Dispatches waiting requests in order; fails them at the no-path deadline. */
    private int dispatchPending()
    {
        int work = 0;
        while (table.pendingCount() > 0)
        {
            final int head = table.peekPending();
            if (!dispatch(head))
            {
                final boolean noRoute = map.routeCount(guestQueue) == 0;
                if (noRoute)
                {
                    table.markTrouble(head, now);
                }
                final long troubleSince = table.troubleSince(head);
                // A pulled buffer (net rx) has nothing to fail: like a NIC without link it is held.
                if (!pull && troubleSince != InFlightTable.NO_TROUBLE &&
                    (noRoute || noPathTimeoutNanos > 0) && now - troubleSince >= noPathTimeoutNanos)
                {
                    table.popPending();
                    stats.increment(QueueStats.FAILED_NO_PATH);
                    finish(head, handler.fail(head));
                    work++;
                    continue;
                }
                break;
            }
            table.popPending();
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
        if (routes > 1 && QueueMap.cardOf(r) == table.avoidCard(head))
        {
            index = index + 1 == routes ? 0 : index + 1;
            r = map.route(guestQueue, index);
        }
        final int card = QueueMap.cardOf(r);
        final CardPort<?> port = ports[card];
        if (port == null || port.isFenced() || (card == table.avoidCard(head) && now - table.retryAt(head) < 0))
        {
            return false;
        }
        final int generation = port.fenceGeneration();
        final long token = CompletionToken.encode(guestQueue, head, generation, table.attempt(head));
        if (!port.submissionRing(QueueMap.queueOf(r)).offer(token))
        {
            return false;
        }
        table.submitted(head, r, generation, now);
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
        if ((pull || submittedCount() == 0) && drains.drained(ticket))
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
            for (int head = 0, size = table.entries(); head < size; head++)
            {
                if (table.isSubmitted(head) && !pull)
                {
                    final int card = QueueMap.cardOf(table.route(head));
                    final long submitted = table.submitNanos(head);
                    if (submitted < oldest[card])
                    {
                        oldest[card] = submitted;
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
