package dev.braid.mapper;

/**
 * Requests outstanding per route as one front queue counts them: one more on submit, one fewer on
 * completion, never below zero. What the selectors that weigh load share; owned by one selector,
 * so by its front queue's thread.
 */
final class OutstandingCounts
{
    private final RouteSlots slots;
    private final long[] counts;

    OutstandingCounts(final RouteSlots slots)
    {
        this.slots = slots;
        counts = new long[slots.slotCount()];
    }

    void onSubmit(final int route)
    {
        counts[slots.slot(route)]++;
    }

    /** Counts the completion; returns the route's slot for the caller's own per-route state. */
    int onComplete(final int route)
    {
        final int slot = slots.slot(route);
        if (counts[slot] > 0)
        {
            counts[slot]--;
        }
        return slot;
    }

    long ofSlot(final int slot)
    {
        return counts[slot];
    }

    long of(final int route)
    {
        return counts[slots.slot(route)];
    }
}
