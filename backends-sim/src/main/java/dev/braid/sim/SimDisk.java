package dev.braid.sim;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A simulated disk over a {@link SharedBlockStore} that other cards share: the same logical disk
 * behind several paths. Each request gets a completion time (earliest start under the
 * {@link BandwidthCap}, plus a {@link LatencyModel} draw); {@link #poll} completes what is due, in due
 * order, not submit order. Data moves at completion time, as a real card's DMA would: reads copy
 * store to guest, writes guest to store under a fresh store-wide version, discard and write-zeroes
 * zero the range, flush does nothing.
 *
 * <h2>Threading</h2>
 * As the card SPI says: {@link #submit} and {@link #poll} of one queue come from one thread at a
 * time; {@link #fence()}, {@link #unfence()}, the fault controls and the queries from any thread.
 * {@link #nextEventNanos()} is for the deterministic scheduler, on the thread driving the card.
 * Steady-state submit and poll allocate nothing: slots, heap and results are preallocated per queue.
 *
 * <h2>Fencing</h2>
 * The card's {@link CardFence} over its queues' {@link InFlightSlots}, as the sim NIC and HBA have
 * it: {@link #fence()} moves every request that has not started out of PENDING (a CAS the poll must
 * win to move data) and waits for those executing; when it returns, no request submitted before it
 * can touch guest memory again. A submit that races the fence is cancelled by
 * {@link CardFence#cancelIfFenced}. A fence issued from inside a completion callback of this card
 * (the same thread) does not wait for itself: that completion's data already moved.
 *
 * <p>After the fence, older requests complete with {@link CardStatus#CANCELLED} and no data at the
 * next poll, first; a {@link CardFault#ZOMBIE} card instead reports them late (the zombie delay after
 * their due time, or after the poll that saw the fence) with their normal status, still without
 * moving data: stale tokens reach the sink.
 *
 * <h2>Faults</h2>
 * See {@link FaultTarget#inject} for the parameters. FAIL_STOP refuses new work, never completes held
 * work and takes the link down. LINK_DOWN fails held and new work with IO_ERROR (no data) until the
 * link comes back. HANG accepts and holds everything, link up; what it held completes after heal.
 * SLOW multiplies latency for new requests. ERROR_BURST fails the next n requests with IO_ERROR.
 */
public final class SimDisk implements BlockCard, TimerSource, FaultTarget
{
    private final String name;
    private final SharedBlockStore store;
    private final NanoClock clock;
    private final LatencyModel latency;
    private final BandwidthCap bandwidth;
    private final int queueDepth;
    private final SimDiskQueue[] queues;

    private final Object faultLock = new Object();
    private final AtomicReference<CardFault> fault = new AtomicReference<>(CardFault.HEALTHY);
    private final CardFence fence;
    private final AtomicLong errorBudget = new AtomicLong();
    private volatile long resetGeneration;
    private volatile long slowFactor = 1;
    private volatile long zombieDelayNanos;
    private volatile long linkUpAtNanos = NONE;
    private volatile boolean linkUp = true;
    private volatile CardEventListener listener;

    private SimDisk(final Builder builder)
    {
        this.name = builder.name;
        this.store = builder.store;
        this.clock = builder.clock;
        this.latency = builder.latency;
        this.bandwidth = builder.bandwidth;
        this.queueDepth = builder.queueDepth;
        this.queues = new SimDiskQueue[builder.queueCount];
        for (int i = 0; i < queues.length; i++)
        {
            // Independent, reproducible latency streams per queue.
            queues[i] = new SimDiskQueue(queueDepth, builder.seed * 0x9E37_79B9_7F4A_7C15L + i);
        }
        final InFlightSlots[] slots = new InFlightSlots[queues.length];
        for (int i = 0; i < queues.length; i++)
        {
            slots[i] = queues[i].slots;
        }
        fence = new CardFence(new CardFence.ZombieState()
        {
            public boolean isZombie()
            {
                return fault.get() == CardFault.ZOMBIE;
            }

            public long zombieDelayNanos()
            {
                return zombieDelayNanos;
            }
        }, clock, slots);
    }

    public static Builder builder(final String name, final SharedBlockStore store)
    {
        return new Builder(name, store);
    }

    // ---------------------------------------------------------------- Card

    public String name()
    {
        return name;
    }

    public int queueCount()
    {
        return queues.length;
    }

    public int queueDepth()
    {
        return queueDepth;
    }

    public long capacitySectors()
    {
        return store.sectors();
    }

    public boolean isLinkUp()
    {
        return linkUp;
    }

    public void setEventListener(final CardEventListener listener)
    {
        this.listener = listener;
    }

    public boolean submit(final int queue, final BlockIo io, final long token, final CompletionSink sink)
    {
        final SimDiskQueue q = queues[queue];
        final CardFault currentFault = fault.get();
        if (currentFault == CardFault.FAIL_STOP || !q.hasFreeSlot())
        {
            q.increment(SimDiskQueue.STAT_REJECTED, 1);
            return false;
        }
        if (fence.isFenced())
        {
            q.increment(SimDiskQueue.STAT_REJECTED, 1);
            return false;
        }

        final long now = clock.nanoTime();
        final int operation = io.operation();
        final int slot = q.allocate();
        q.io[slot] = io;
        q.operation[slot] = operation;
        q.sector[slot] = io.sector();
        q.resetGeneration[slot] = resetGeneration;

        int forced = validate(q, slot, io);
        final long moved = q.bytes[slot];
        if (forced == SimDiskQueue.NO_STATUS && currentFault == CardFault.ERROR_BURST && takeError())
        {
            forced = CardStatus.IO_ERROR;
        }
        q.forcedStatus[slot] = forced;

        if (forced == CardStatus.INVALID || forced == CardStatus.UNSUPPORTED)
        {
            q.due[slot] = now;
        }
        else
        {
            final long start = null == bandwidth ? now : bandwidth.reserve(now, moved);
            long service = latency.serviceNanos(operation, moved, q.rng);
            if (currentFault == CardFault.SLOW)
            {
                service = saturatingMultiply(service, slowFactor);
            }
            q.due[slot] = saturatingAdd(start, service);
        }
        q.push(slot);
        // Armed last (release: fields before state), then the Dekker check with a racing fence.
        q.slots.arm(slot, token, sink, q.due[slot]);
        fence.cancelIfFenced(q.slots, slot);
        q.increment(SimDiskQueue.STAT_SUBMITTED, 1);
        return true;
    }

    public int poll(final int queue)
    {
        final SimDiskQueue q = queues[queue];
        final CardFault currentFault = fault.get();
        if (!currentFault.progresses())
        {
            return 0;
        }
        return drain(q, currentFault);
    }

    public void fence()
    {
        fence.fence();
    }

    public void unfence()
    {
        fence.unfence();
    }

    public boolean isFenced()
    {
        return fence.isFenced();
    }

    // ---------------------------------------------------------------- TimerSource

    public long nextEventNanos()
    {
        final CardFault currentFault = fault.get();
        if (!currentFault.progresses())
        {
            return NONE;
        }
        long next = NONE;
        if (currentFault == CardFault.LINK_DOWN)
        {
            next = linkUpAtNanos;
        }
        final int fences = fence.fenceCount();
        final long reset = resetGeneration;
        for (final SimDiskQueue q : queues)
        {
            if (q.size() > 0)
            {
                if (currentFault == CardFault.LINK_DOWN ||
                    fences != q.seenFences || reset != q.seenResetGeneration)
                {
                    // Work the next poll does at once: failing, cancelling or dropping held requests.
                    return clock.nanoTime();
                }
                next = Math.min(next, q.earliestDue());
            }
        }
        return next;
    }

    // ---------------------------------------------------------------- faults

    public CardFault fault()
    {
        return fault.get();
    }

    public void inject(final CardFault newFault, final long param)
    {
        if (newFault == CardFault.HEALTHY)
        {
            heal();
            return;
        }
        final boolean up = newFault.linkUp();
        final boolean changed;
        synchronized (faultLock)
        {
            leaveFailStop();
            slowFactor = newFault == CardFault.SLOW ? Math.max(1, param) : 1;
            errorBudget.set(newFault == CardFault.ERROR_BURST ? Math.max(0, param) : 0);
            zombieDelayNanos = newFault == CardFault.ZOMBIE ? Math.max(0, param) : 0;
            linkUpAtNanos = newFault == CardFault.LINK_DOWN && param > 0 ?
                saturatingAdd(clock.nanoTime(), param) : NONE;
            fault.set(newFault);
            changed = linkUp != up;
            linkUp = up;
        }
        if (changed)
        {
            notifyLink(up);
        }
    }

    public void heal()
    {
        final boolean changed;
        synchronized (faultLock)
        {
            leaveFailStop();
            slowFactor = 1;
            errorBudget.set(0);
            zombieDelayNanos = 0;
            linkUpAtNanos = NONE;
            fault.set(CardFault.HEALTHY);
            changed = !linkUp;
            linkUp = true;
        }
        if (changed)
        {
            notifyLink(true);
        }
    }

    public void rejoin()
    {
        heal();
    }

    // ---------------------------------------------------------------- stats

    /** Requests accepted. */
    public long submitted()
    {
        return sum(SimDiskQueue.STAT_SUBMITTED);
    }

    /** Submissions refused (queue full, fenced, fail-stopped). */
    public long rejected()
    {
        return sum(SimDiskQueue.STAT_REJECTED);
    }

    /** Completions the sinks accepted, whatever their status. */
    public long completed()
    {
        return sum(SimDiskQueue.STAT_COMPLETED);
    }

    /** Completions with a status other than OK. */
    public long errors()
    {
        return sum(SimDiskQueue.STAT_ERRORS);
    }

    /** Bytes moved between the store and guest memory. */
    public long bytes()
    {
        return sum(SimDiskQueue.STAT_BYTES);
    }

    /** Requests held on {@code queue}; exact only on the queue's thread. */
    public int inFlight(final int queue)
    {
        return queues[queue].inFlight();
    }

    public SharedBlockStore store()
    {
        return store;
    }

    public String toString()
    {
        return "SimDisk{" + name + ", fault=" + fault.get() + ", fenced=" + fence.isFenced() + ", link=" +
            (linkUp ? "up" : "down") + ", submitted=" + submitted() + ", completed=" + completed() +
            ", errors=" + errors() + ", bytes=" + bytes() + "}";
    }

    // ---------------------------------------------------------------- internals

    /** Checks the request against the medium; sets sector count and bytes; returns a forced status. */
    private int validate(final SimDiskQueue q, final int slot, final BlockIo io)
    {
        q.bytes[slot] = 0;
        q.sectorCount[slot] = 0;
        switch (io.operation())
        {
            case BlockIo.READ:
            case BlockIo.WRITE:
            {
                final IoVector data = io.data();
                final long total = data.totalLength();
                if (total % BlockIo.SECTOR_SIZE != 0 || total > Integer.MAX_VALUE ||
                    (total > 0 && null == data.memory()) || !store.inRange(io.sector(), total / BlockIo.SECTOR_SIZE))
                {
                    return CardStatus.INVALID;
                }
                q.bytes[slot] = total;
                q.sectorCount[slot] = total / BlockIo.SECTOR_SIZE;
                return SimDiskQueue.NO_STATUS;
            }
            case BlockIo.FLUSH:
                return SimDiskQueue.NO_STATUS;
            case BlockIo.DISCARD:
            case BlockIo.WRITE_ZEROES:
                if (!store.inRange(io.sector(), io.sectorCount()))
                {
                    return CardStatus.INVALID;
                }
                q.sectorCount[slot] = io.sectorCount();
                return SimDiskQueue.NO_STATUS;
            default:
                return CardStatus.UNSUPPORTED;
        }
    }

    private int drain(final SimDiskQueue q, final CardFault faultAtEntry)
    {
        int work = 0;
        final long now = clock.nanoTime();
        if (faultAtEntry == CardFault.LINK_DOWN && linkUpAtNanos <= now && autoLinkUp(now))
        {
            work++;
        }
        work += reconcile(q, now, false);
        final boolean linkDown = fault.get() == CardFault.LINK_DOWN;

        while (q.size() > 0)
        {
            final int slot = q.peek();
            final InFlightSlots slots = q.slots;
            final int state = slots.state(slot);
            final int status;
            final int length;
            if (state == InFlightSlots.PENDING)
            {
                if (!linkDown && q.due[slot] > now)
                {
                    break;
                }
                if (q.seenFences != fence.fenceCount() || !slots.beginExecute(slot))
                {
                    // Fenced since this poll began: sort out the old requests before touching data.
                    work += reconcile(q, now, true);
                    continue;
                }
                if (linkDown)
                {
                    slots.finish(slot, CardStatus.IO_ERROR, 0);
                }
                else
                {
                    execute(q, slot);
                }
                status = slots.status(slot);
                length = slots.length(slot);
            }
            else if (state == InFlightSlots.DONE)
            {
                status = slots.status(slot);
                length = slots.length(slot);
            }
            else if (!q.rekeyed[slot])
            {
                // Moved by a fence this poll has not sorted out yet.
                work += reconcile(q, now, true);
                continue;
            }
            else if (state == InFlightSlots.CANCELLED)
            {
                status = CardStatus.CANCELLED;
                length = 0;
            }
            else
            {
                if (!linkDown && q.due[slot] > now)
                {
                    break;
                }
                // A zombie's late report: the status the request would have had, and no data moved.
                final int forced = q.forcedStatus[slot];
                status = forced == SimDiskQueue.NO_STATUS ? CardStatus.OK : forced;
                length = forced == SimDiskQueue.NO_STATUS ? (int)q.bytes[slot] : 0;
            }
            if (!slots.deliver(slot, status, length))
            {
                // The sink is full: a request executed now keeps its result (DONE) for the next poll.
                break;
            }
            q.pop();
            q.release(slot);
            q.increment(SimDiskQueue.STAT_COMPLETED, 1);
            if (status != CardStatus.OK)
            {
                q.increment(SimDiskQueue.STAT_ERRORS, 1);
            }
            work++;
        }
        return work;
    }

    /** Moves the data of a due request (or applies its forced status) and records the result. */
    private void execute(final SimDiskQueue q, final int slot)
    {
        final int forced = q.forcedStatus[slot];
        if (forced != SimDiskQueue.NO_STATUS)
        {
            q.slots.finish(slot, forced, 0);
            return;
        }
        final long sector = q.sector[slot];
        final long bytes = q.bytes[slot];
        int length = 0;
        switch (q.operation[slot])
        {
            case BlockIo.READ:
                store.read(sector, q.io[slot].data(), bytes);
                length = (int)bytes;
                break;
            case BlockIo.WRITE:
                store.write(sector, q.io[slot].data(), bytes, store.nextVersion());
                length = (int)bytes;
                break;
            case BlockIo.DISCARD:
            case BlockIo.WRITE_ZEROES:
                if (q.sectorCount[slot] > 0)
                {
                    store.zero(sector, q.sectorCount[slot], store.nextVersion());
                }
                break;
            default:
                break;
        }
        q.slots.finish(slot, CardStatus.OK, length);
        q.increment(SimDiskQueue.STAT_BYTES, length);
    }

    /**
     * Brings the queue's held requests in line with a fence or a reset since the last look (or, when
     * {@code force}, with a fence this poll met mid-way): requests of an older reset are dropped
     * without a word; requests a fence cancelled are delivered first, those it turned stale (a
     * zombie) after the zombie delay. Returns the number of requests changed.
     */
    private int reconcile(final SimDiskQueue q, final long now, final boolean force)
    {
        final long reset = resetGeneration;
        final int fences = fence.fenceCount();
        if (!force && reset == q.seenResetGeneration && fences == q.seenFences)
        {
            return 0;
        }
        final long delay = zombieDelayNanos;
        int changed = 0;
        // Backwards, so that removeAtUnordered only moves an entry already visited.
        for (int i = q.size() - 1; i >= 0; i--)
        {
            final int slot = q.at(i);
            final int state = q.slots.state(slot);
            if (q.resetGeneration[slot] != reset)
            {
                q.removeAtUnordered(i);
                q.slots.discard(slot);
                q.release(slot);
                changed++;
            }
            else if (!q.rekeyed[slot] && (state == InFlightSlots.CANCELLED || state == InFlightSlots.ZOMBIE))
            {
                q.rekeyed[slot] = true;
                q.due[slot] = state == InFlightSlots.ZOMBIE ? saturatingAdd(Math.max(q.due[slot], now), delay) : Long.MIN_VALUE;
                changed++;
            }
        }
        q.heapify();
        q.seenResetGeneration = reset;
        q.seenFences = fences;
        return changed;
    }

    private boolean autoLinkUp(final long now)
    {
        synchronized (faultLock)
        {
            if (fault.get() != CardFault.LINK_DOWN || linkUpAtNanos > now)
            {
                return false;
            }
            linkUpAtNanos = NONE;
            fault.set(CardFault.HEALTHY);
            linkUp = true;
        }
        notifyLink(true);
        return true;
    }

    /** Called under faultLock: a fail-stopped card that comes back has lost what it held. */
    private void leaveFailStop()
    {
        if (fault.get() == CardFault.FAIL_STOP)
        {
            resetGeneration = resetGeneration + 1;
            if (null != bandwidth)
            {
                bandwidth.reset();
            }
        }
    }

    private boolean takeError()
    {
        while (true)
        {
            final long budget = errorBudget.get();
            if (budget <= 0)
            {
                fault.compareAndSet(CardFault.ERROR_BURST, CardFault.HEALTHY);
                return false;
            }
            if (errorBudget.compareAndSet(budget, budget - 1))
            {
                if (budget == 1)
                {
                    fault.compareAndSet(CardFault.ERROR_BURST, CardFault.HEALTHY);
                }
                return true;
            }
        }
    }

    private void notifyLink(final boolean up)
    {
        final CardEventListener l = listener;
        if (null != l)
        {
            l.onLinkChange(this, up);
        }
    }

    private long sum(final int stat)
    {
        long total = 0;
        for (final SimDiskQueue q : queues)
        {
            total += q.stats.get(stat);
        }
        return total;
    }

    private static long saturatingAdd(final long a, final long b)
    {
        final long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (b < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }

    private static long saturatingMultiply(final long a, final long b)
    {
        final long high = Math.multiplyHigh(a, b);
        final long low = a * b;
        return high != 0 || low < 0 ? Long.MAX_VALUE : low;
    }

    /** Configuration of one {@link SimDisk}. */
    public static final class Builder
    {
        private final String name;
        private final SharedBlockStore store;
        private NanoClock clock = SystemNanoClock.INSTANCE;
        private LatencyModel latency = LatencyModel.ZERO;
        private BandwidthCap bandwidth;
        private int queueCount = 1;
        private int queueDepth = 32;
        private long seed;

        private Builder(final String name, final SharedBlockStore store)
        {
            this.name = name;
            this.store = store;
        }

        public Builder clock(final NanoClock clock)
        {
            this.clock = clock;
            return this;
        }

        public Builder latency(final LatencyModel latency)
        {
            this.latency = latency;
            return this;
        }

        /** A cap shared by all queues of the card; null for none. */
        public Builder bandwidth(final BandwidthCap bandwidth)
        {
            this.bandwidth = bandwidth;
            return this;
        }

        public Builder queues(final int queueCount, final int queueDepth)
        {
            this.queueCount = queueCount;
            this.queueDepth = queueDepth;
            return this;
        }

        /** Seeds the per-queue latency draws. */
        public Builder seed(final long seed)
        {
            this.seed = seed;
            return this;
        }

        public SimDisk build()
        {
            if (null == name || null == store || null == clock || null == latency)
            {
                throw new IllegalArgumentException("name, store, clock and latency are required");
            }
            if (queueCount < 1 || queueDepth < 1)
            {
                throw new IllegalArgumentException("queues=" + queueCount + " depth=" + queueDepth);
            }
            return new SimDisk(this);
        }
    }
}
