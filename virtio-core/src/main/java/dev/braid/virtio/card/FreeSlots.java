package dev.braid.virtio.card;

/**
 * The free slot indices of one card queue, as a stack: slots come out 0, 1, 2... at
 * first, and a freed slot is the next one taken. Owned by the queue's thread; allocation-free.
 */
public final class FreeSlots
{
    private final int[] stack;
    private int count;

    public FreeSlots(final int depth)
    {
        stack = new int[depth];
        for (int i = 0; i < depth; i++)
        {
            stack[i] = depth - 1 - i;
        }
        count = depth;
    }

    public boolean isEmpty()
    {
        return count == 0;
    }

    /** Slots taken and not given back. */
    public int taken()
    {
        return stack.length - count;
    }

    /** A free slot; the caller checked {@link #isEmpty()}. */
    public int take()
    {
        return stack[--count];
    }

    public void give(final int slot)
    {
        stack[count++] = slot;
    }
}
