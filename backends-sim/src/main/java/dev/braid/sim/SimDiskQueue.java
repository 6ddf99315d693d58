package dev.braid.sim;

import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.FreeSlots;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One hardware queue of a {@link SimDisk}: preallocated slots (one per in-flight request) whose
 * state, token and sink live in {@link InFlightSlots} (the card's {@link CardFence} moves them), a
 * free stack, and a min-heap of slots ordered by (due time, submit sequence). Owned by the queue's
 * thread: only {@code submit} and {@code poll} touch the heap and the request fields.
 */
final class SimDiskQueue
{
    static final int STAT_SUBMITTED = 0;
    static final int STAT_REJECTED = 1;
    static final int STAT_COMPLETED = 2;
    static final int STAT_ERRORS = 3;
    static final int STAT_BYTES = 4;
    static final int STAT_COUNT = 5;

    /** No status forced at submit: the request is served normally. */
    static final int NO_STATUS = -1;

    final int depth;
    final SplittableRandom rng;

    final InFlightSlots slots;
    final BlockIo[] io;
    final long[] due;
    final long[] sequence;
    // Whether a slot the fence cancelled or turned stale has had its due time set for that (poll thread).
    final boolean[] rekeyed;
    final long[] resetGeneration;
    final int[] operation;
    final long[] sector;
    final long[] sectorCount;
    final long[] bytes;
    final int[] forcedStatus;

    private final FreeSlots free;
    private final int[] heap;
    private int heapSize;
    private long nextSequence;

    /** Fences and resets this queue has reconciled its slots with (poll thread only). */
    int seenFences;
    long seenResetGeneration;

    final AtomicLongArray stats = new AtomicLongArray(STAT_COUNT);

    SimDiskQueue(final int depth, final long seed)
    {
        this.depth = depth;
        this.rng = new SplittableRandom(seed);
        slots = new InFlightSlots(depth);
        io = new BlockIo[depth];
        due = new long[depth];
        sequence = new long[depth];
        rekeyed = new boolean[depth];
        resetGeneration = new long[depth];
        operation = new int[depth];
        sector = new long[depth];
        sectorCount = new long[depth];
        bytes = new long[depth];
        forcedStatus = new int[depth];
        free = new FreeSlots(depth);
        heap = new int[depth];
    }

    int inFlight()
    {
        return free.taken();
    }

    boolean hasFreeSlot()
    {
        return !free.isEmpty();
    }

    /** Takes a free slot and gives it the next sequence number; caller checked {@link #hasFreeSlot()}. */
    int allocate()
    {
        final int slot = free.take();
        sequence[slot] = nextSequence++;
        rekeyed[slot] = false;
        return slot;
    }

    void release(final int slot)
    {
        io[slot] = null;
        free.give(slot);
    }

    int size()
    {
        return heapSize;
    }

    int peek()
    {
        return heap[0];
    }

    /** Heap entry {@code index} (any order), for sweeps. */
    int at(final int index)
    {
        return heap[index];
    }

    void push(final int slot)
    {
        int i = heapSize++;
        heap[i] = slot;
        siftUp(i);
    }

    int pop()
    {
        final int top = heap[0];
        heapSize--;
        if (heapSize > 0)
        {
            heap[0] = heap[heapSize];
            siftDown(0);
        }
        return top;
    }

    /** Drops heap entry {@code index} (a slot the sweep discarded); order is restored by {@link #heapify()}. */
    void removeAtUnordered(final int index)
    {
        heap[index] = heap[--heapSize];
    }

    void heapify()
    {
        for (int i = (heapSize >>> 1) - 1; i >= 0; i--)
        {
            siftDown(i);
        }
    }

    long earliestDue()
    {
        return heapSize == 0 ? TimerSource.NONE : due[heap[0]];
    }

    void increment(final int stat, final long delta)
    {
        // Single writer per queue: an ordered store is enough for readers on other threads.
        stats.lazySet(stat, stats.get(stat) + delta);
    }

    private boolean before(final int a, final int b)
    {
        return due[a] < due[b] || (due[a] == due[b] && sequence[a] < sequence[b]);
    }

    private void siftUp(final int index)
    {
        int i = index;
        final int slot = heap[i];
        while (i > 0)
        {
            final int parent = (i - 1) >>> 1;
            if (!before(slot, heap[parent]))
            {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = slot;
    }

    private void siftDown(final int index)
    {
        int i = index;
        final int slot = heap[i];
        while (true)
        {
            final int left = 2 * i + 1;
            if (left >= heapSize)
            {
                break;
            }
            final int right = left + 1;
            final int child = right < heapSize && before(heap[right], heap[left]) ? right : left;
            if (!before(heap[child], slot))
            {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = slot;
    }
}
