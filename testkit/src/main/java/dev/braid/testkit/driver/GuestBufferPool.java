package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;

/**
 * Fixed-size data buffers carved out of a guest-physical range, for tests, the soak runner and
 * benchmarks. A LIFO free list of slot numbers; nothing allocates after construction.
 */
public final class GuestBufferPool
{
    /** {@link #allocate()} found no free slot. */
    public static final long NO_BUFFER = -1L;

    private final GuestMemory memory;
    private final long baseGpa;
    private final int slotSize;
    private final int slotCount;
    private final int[] freeSlots;
    private final boolean[] allocated;
    private int freeCount;

    public GuestBufferPool(final GuestMemory memory, final long baseGpa, final int slotSize, final int slotCount)
    {
        if (slotSize < 1 || slotCount < 1)
        {
            throw new IllegalArgumentException("slot size and count must be positive: " + slotSize + " x " + slotCount);
        }
        if (!memory.isValidRange(baseGpa, (long)slotSize * slotCount))
        {
            throw new IllegalArgumentException("buffer pool at 0x" + Long.toHexString(baseGpa) + " of " +
                slotSize + " x " + slotCount + " is not inside guest memory");
        }
        this.memory = memory;
        this.baseGpa = baseGpa;
        this.slotSize = slotSize;
        this.slotCount = slotCount;
        this.freeSlots = new int[slotCount];
        this.allocated = new boolean[slotCount];
        reset();
    }

    /** Marks every slot free; slot 0 is handed out first. */
    public void reset()
    {
        for (int i = 0; i < slotCount; i++)
        {
            freeSlots[i] = slotCount - 1 - i;
            allocated[i] = false;
        }
        freeCount = slotCount;
    }

    /** A free buffer's guest-physical address, or {@link #NO_BUFFER}. */
    public long allocate()
    {
        if (freeCount == 0)
        {
            return NO_BUFFER;
        }
        final int slot = freeSlots[--freeCount];
        allocated[slot] = true;
        return gpaOf(slot);
    }

    /** Returns a buffer; {@code gpa} must be the start of an allocated slot. */
    public void free(final long gpa)
    {
        final int slot = slotOf(gpa);
        if (slot < 0 || gpaOf(slot) != gpa || !allocated[slot])
        {
            throw new IllegalArgumentException("not an allocated buffer of this pool: 0x" + Long.toHexString(gpa));
        }
        allocated[slot] = false;
        freeSlots[freeCount++] = slot;
    }

    /** The slot that holds {@code gpa}, or -1. */
    public int slotOf(final long gpa)
    {
        if (gpa < baseGpa || gpa - baseGpa >= (long)slotSize * slotCount)
        {
            return -1;
        }
        return (int)((gpa - baseGpa) / slotSize);
    }

    public long gpaOf(final int slot)
    {
        if (slot < 0 || slot >= slotCount)
        {
            throw new IndexOutOfBoundsException("slot " + slot + " of " + slotCount);
        }
        return baseGpa + (long)slot * slotSize;
    }

    public boolean isAllocated(final int slot)
    {
        return allocated[slot];
    }

    public int available()
    {
        return freeCount;
    }

    public int slotSize()
    {
        return slotSize;
    }

    public int slotCount()
    {
        return slotCount;
    }

    public long baseGpa()
    {
        return baseGpa;
    }

    /** First guest-physical address past the pool. */
    public long endGpa()
    {
        return baseGpa + (long)slotSize * slotCount;
    }

    public GuestMemory memory()
    {
        return memory;
    }
}
