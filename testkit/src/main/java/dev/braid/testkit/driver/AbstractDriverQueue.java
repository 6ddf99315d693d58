package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;

/**
 * What the split and packed driver models keep the same way: the ring's place in guest memory,
 * free and in-flight counts, and the record of device faults (a fault that leaves the ring unusable
 * marks the queue broken until {@link #reset()}). Guest thread only, like the queues themselves.
 */
abstract class AbstractDriverQueue implements DriverQueue
{
    final GuestMemory memory;
    final RingLayout layout;
    final boolean eventIdx;
    final int size;
    final int maxIndirect;

    int numFree;
    int inFlight;
    int deviceFaults;
    int lastDeviceFault;
    boolean broken;

    AbstractDriverQueue(final GuestMemory memory, final RingLayout layout, final boolean eventIdx, final boolean packed)
    {
        if (layout.packed() != packed)
        {
            throw new IllegalArgumentException((packed ? "packed" : "split") + " queue needs a " +
                (packed ? "packed" : "split") + " layout: " + layout);
        }
        if (!memory.isValidRange(layout.descGpa(), layout.descriptorAreaLength()) ||
            !memory.isValidRange(layout.driverAreaGpa(), layout.driverAreaLength()) ||
            !memory.isValidRange(layout.deviceAreaGpa(), layout.deviceAreaLength()) ||
            !memory.isValidRange(layout.indirectGpa(), layout.indirectAreaLength()))
        {
            throw new IllegalArgumentException("ring layout is not inside guest memory: " + layout);
        }
        this.memory = memory;
        this.layout = layout;
        this.eventIdx = eventIdx;
        this.size = layout.queueSize();
        this.maxIndirect = layout.maxIndirect();
    }

    /**
     * The ring slots {@code chain} takes (one when {@code indirect}). Throws when the chain is
     * malformed or could never fit this queue; whether there is room now is the caller's check.
     */
    final int slotsFor(final BufferChain chain, final boolean indirect)
    {
        final int count = chain.count();
        if (!chain.isWellFormed())
        {
            throw new IllegalArgumentException("chain is empty or has a readable element after a writable one");
        }
        // An indirect table is a descriptor list too, capped at the queue size (2.7.5.3.1 / 2.8.19).
        if (count > size || (indirect && count > maxIndirect))
        {
            throw new IllegalArgumentException("chain of " + count + " does not fit: size=" + size +
                " maxIndirect=" + maxIndirect + " indirect=" + indirect);
        }
        return indirect ? 1 : count;
    }

    public int reap(final UsedConsumer consumer)
    {
        return reap(consumer, Integer.MAX_VALUE);
    }

    public int size()
    {
        return size;
    }

    public boolean eventIdx()
    {
        return eventIdx;
    }

    public RingLayout layout()
    {
        return layout;
    }

    public GuestMemory memory()
    {
        return memory;
    }

    public int numFree()
    {
        return numFree;
    }

    public int inFlight()
    {
        return inFlight;
    }

    public int deviceFaults()
    {
        return deviceFaults;
    }

    public int lastDeviceFault()
    {
        return lastDeviceFault;
    }

    public boolean broken()
    {
        return broken;
    }

    /** Counts a device fault ({@link DeviceFault}); the caller decides whether it breaks the queue. */
    final void fault(final int code)
    {
        deviceFaults++;
        lastDeviceFault = code;
    }

    /** Forgets the faults and the broken mark; part of {@link #reset()}. */
    final void clearFaults()
    {
        deviceFaults = 0;
        lastDeviceFault = DeviceFault.NONE;
        broken = false;
    }

    /** The argument check of {@link #interruptAfter(int)}: EVENT_IDX negotiated, n in [1, size]. */
    final void checkInterruptAfter(final int n)
    {
        if (!eventIdx)
        {
            throw new IllegalStateException("interruptAfter needs VIRTIO_F_RING_EVENT_IDX");
        }
        if (n < 1 || n > size)
        {
            throw new IllegalArgumentException("n must be in [1, " + size + "]: " + n);
        }
    }
}
