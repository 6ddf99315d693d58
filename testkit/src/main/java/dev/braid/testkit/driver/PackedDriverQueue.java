package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.testkit.driver.DriverRingDescriptor.DESC_SIZE;
import static dev.braid.testkit.driver.DriverRingDescriptor.EVENT_FLAGS_DESC;
import static dev.braid.testkit.driver.DriverRingDescriptor.EVENT_FLAGS_DISABLE;
import static dev.braid.testkit.driver.DriverRingDescriptor.EVENT_FLAGS_ENABLE;
import static dev.braid.testkit.driver.DriverRingDescriptor.EVENT_WRAP_SHIFT;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_INDIRECT;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_NEXT;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_WRITE;
import static dev.braid.testkit.driver.DriverRingDescriptor.PACKED_DESC_ADDR;
import static dev.braid.testkit.driver.DriverRingDescriptor.PACKED_DESC_FLAGS;
import static dev.braid.testkit.driver.DriverRingDescriptor.PACKED_DESC_ID;
import static dev.braid.testkit.driver.DriverRingDescriptor.PACKED_DESC_LEN;
import static dev.braid.testkit.driver.DriverRingDescriptor.PACKED_F_AVAIL;
import static dev.braid.testkit.driver.DriverRingDescriptor.PACKED_F_USED;

/**
 * The driver side of a packed virtqueue (virtio 1.x, 2.8).
 *
 * <p>Ring slots are written in ring order; buffer ids come from a driver-private free list, and
 * the driver remembers how many slots each id holds so that it can skip to where the device
 * writes the next used descriptor. The buffer id is written into every descriptor of a chain
 * (the spec needs it only in the last; Linux writes all).
 *
 * <p>The event suppression structures are read and written as one 32-bit word (off_wrap in the
 * low half, flags in the high half, little-endian), so neither side sees a torn pair.
 */
public final class PackedDriverQueue extends AbstractDriverQueue
{
    private final long descGpa;
    private final long driverEventGpa;
    private final long deviceEventGpa;

    private final int[] idLink;
    /** Per id: ring slots the chain holds; 0 when the id is not in flight. */
    private final int[] slotCount;
    private final long[] writableBytes;
    /** Heads written but not yet made available, in ring order. */
    private final int[] pendingHeadSlot;
    private final short[] pendingHeadFlags;
    private int pendingHeads;
    private int pendingSlots;

    private int freeId;
    private int nextAvail;
    private int availWrap;
    private int publishedAvail;
    private int publishedWrap;
    private long publishedSinceKick;
    private int lastUsed;
    private int usedWrap;

    // The chain being written: its pending-head entry, and whether its head is still to come.
    private int rawHeadIndex;
    private boolean rawHeadPending;

    public PackedDriverQueue(final GuestMemory memory, final RingLayout layout, final boolean eventIdx)
    {
        super(memory, layout, eventIdx, true);
        this.descGpa = layout.descGpa();
        this.driverEventGpa = layout.driverEventGpa();
        this.deviceEventGpa = layout.deviceEventGpa();
        this.idLink = new int[size];
        this.slotCount = new int[size];
        this.writableBytes = new long[size];
        this.pendingHeadSlot = new int[size];
        this.pendingHeadFlags = new short[size];
        reset();
    }

    public void reset()
    {
        memory.setMemory(descGpa, layout.descriptorAreaLength(), (byte)0);
        memory.setMemory(driverEventGpa, layout.driverAreaLength(), (byte)0);
        memory.setMemory(deviceEventGpa, layout.deviceAreaLength(), (byte)0);
        for (int i = 0; i < size; i++)
        {
            idLink[i] = i + 1;
            slotCount[i] = 0;
            writableBytes[i] = 0;
        }
        freeId = 0;
        numFree = size;
        inFlight = 0;
        pendingHeads = 0;
        pendingSlots = 0;
        // Both wrap counters start at 1 (2.8.1).
        nextAvail = 0;
        availWrap = 1;
        publishedAvail = 0;
        publishedWrap = 1;
        publishedSinceKick = 0;
        lastUsed = 0;
        usedWrap = 1;
        clearFaults();
    }

    /** Ring slot the next added descriptor goes to. */
    public int nextAvailSlot()
    {
        return nextAvail;
    }

    /** The driver ring wrap counter (0 or 1). */
    public int availWrapCounter()
    {
        return availWrap;
    }

    /** Ring slot where the driver expects the next used descriptor. */
    public int nextUsedSlot()
    {
        return lastUsed;
    }

    /** The wrap counter a used descriptor at {@link #nextUsedSlot()} must carry (0 or 1). */
    public int usedWrapCounter()
    {
        return usedWrap;
    }

    public int addBuffer(final long gpa, final int length, final boolean deviceWritable)
    {
        if (numFree == 0 || freeId >= size)
        {
            return NO_ROOM;
        }
        final int id = takeId();
        beginRaw();
        putRaw(gpa, length, id, deviceWritable ? F_WRITE : 0);
        endRaw(id, 1, deviceWritable ? length & 0xFFFF_FFFFL : 0);
        return id;
    }

    public int addChain(final BufferChain chain, final boolean indirect)
    {
        final int count = chain.count();
        final int needed = slotsFor(chain, indirect);
        if (numFree < needed || freeId >= size)
        {
            return NO_ROOM;
        }
        final int id = takeId();
        beginRaw();
        if (indirect)
        {
            final long table = layout.indirectTableGpa(id);
            for (int i = 0; i < count; i++)
            {
                // WRITE is the only flag that means anything in a packed indirect table.
                writeTableEntry(table, i, chain.gpa(i), chain.length(i), chain.isWritable(i) ? F_WRITE : 0);
            }
            putRaw(table, count * DESC_SIZE, id, F_INDIRECT);
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                putRaw(chain.gpa(i), chain.length(i), id,
                    (i == count - 1 ? 0 : F_NEXT) | (chain.isWritable(i) ? F_WRITE : 0));
            }
        }
        endRaw(id, needed, chain.writableBytes());
        return id;
    }

    public void publish()
    {
        for (int i = 0; i < pendingHeads; i++)
        {
            // Release: the chain's other descriptors and this head's addr/len/id are visible
            // before the head's flags mark it available.
            memory.putShortRelease(
                descGpa + (long)DESC_SIZE * pendingHeadSlot[i] + PACKED_DESC_FLAGS, pendingHeadFlags[i]);
        }
        pendingHeads = 0;
        publishedSinceKick += pendingSlots;
        pendingSlots = 0;
        publishedAvail = nextAvail;
        publishedWrap = availWrap;
    }

    public boolean needsKick()
    {
        final long added = publishedSinceKick;
        if (added == 0)
        {
            return false;
        }
        publishedSinceKick = 0;
        // Store-load: the available flags must be visible before we read the device's event
        // suppression, or the device may sleep on a descriptor we think it will see.
        GuestMemory.fullFence();
        final int word = memory.getInt(deviceEventGpa);
        final int offWrap = word & 0xFFFF;
        final int flags = (word >>> 16) & 0x3;
        if (flags == EVENT_FLAGS_DISABLE)
        {
            return false;
        }
        if (flags != EVENT_FLAGS_DESC || !eventIdx || added >= size)
        {
            return true;
        }
        // Put the event and the published range on one line: positions in the current lap are
        // 0..size-1, the previous lap's are -size..-1. Kick when the event lies in [old, new).
        final int newPos = publishedAvail;
        final long oldPos = newPos - added;
        final int eventOffset = offWrap & 0x7FFF;
        final int eventWrap = offWrap >>> EVENT_WRAP_SHIFT;
        final int eventPos = eventWrap == publishedWrap ? eventOffset : eventOffset - size;
        return eventPos >= oldPos && eventPos < newPos;
    }

    public int reap(final UsedConsumer consumer, final int limit)
    {
        int delivered = 0;
        // Bounded: every step frees one in-flight id or stops.
        while (!broken && delivered < limit && inFlight > 0)
        {
            final long desc = descGpa + (long)DESC_SIZE * lastUsed;
            // Acquire: id and len below were written by the device before these flags.
            final int flags = memory.getShortAcquire(desc + PACKED_DESC_FLAGS) & 0xFFFF;
            if (!isUsed(flags, usedWrap))
            {
                break;
            }
            final int id = memory.getShort(desc + PACKED_DESC_ID) & 0xFFFF;
            // The length is reserved unless the device sets WRITE (2.8.4).
            final int len = (flags & F_WRITE) != 0 ? memory.getInt(desc + PACKED_DESC_LEN) : 0;
            if (id >= size || slotCount[id] == 0)
            {
                // Without the id the driver cannot know how far to skip: the ring is lost.
                fault(DeviceFault.UNKNOWN_ID);
                broken = true;
                break;
            }
            if ((len & 0xFFFF_FFFFL) > writableBytes[id])
            {
                fault(DeviceFault.LENGTH_TOO_LONG);
            }
            final int slots = slotCount[id];
            lastUsed += slots;
            if (lastUsed >= size)
            {
                lastUsed -= size;
                usedWrap ^= 1;
            }
            numFree += slots;
            slotCount[id] = 0;
            writableBytes[id] = 0;
            idLink[id] = freeId;
            freeId = id;
            inFlight--;
            consumer.onUsed(id, len);
            delivered++;
        }
        return delivered;
    }

    public boolean hasPendingUsed()
    {
        final int flags = memory.getShortAcquire(descGpa + (long)DESC_SIZE * lastUsed + PACKED_DESC_FLAGS) & 0xFFFF;
        return inFlight > 0 && isUsed(flags, usedWrap);
    }

    public void enableInterrupts()
    {
        writeDriverEvent(EVENT_FLAGS_ENABLE, 0);
        // Store-load: the device must see the request before we look for used descriptors again.
        GuestMemory.fullFence();
    }

    public void disableInterrupts()
    {
        writeDriverEvent(EVENT_FLAGS_DISABLE, 0);
    }

    public void interruptAfter(final int n)
    {
        checkInterruptAfter(n);
        int pos = lastUsed + n - 1;
        int wrap = usedWrap;
        if (pos >= size)
        {
            pos -= size;
            wrap ^= 1;
        }
        writeDriverEvent(EVENT_FLAGS_DESC, pos | wrap << EVENT_WRAP_SHIFT);
        GuestMemory.fullFence();
    }

    public String toString()
    {
        return "PackedDriverQueue{size=" + size + ", avail=" + nextAvail + "/" + availWrap +
            ", used=" + lastUsed + "/" + usedWrap + ", free=" + numFree + ", inFlight=" + inFlight +
            ", faults=" + deviceFaults + '}';
    }

    // ---------------------------------------------------------------- hooks for MalformedChains

    boolean hasFreeId()
    {
        return freeId < size;
    }

    int takeId()
    {
        final int id = freeId;
        freeId = idLink[id];
        return id;
    }

    void beginRaw()
    {
        rawHeadIndex = pendingHeads;
        pendingHeadSlot[rawHeadIndex] = nextAvail;
        pendingHeads++;
        rawHeadPending = true;
    }

    /**
     * Writes the next descriptor of the raw chain at the next ring slot with the avail/used bits
     * of the current wrap counter; the first one's flags are held back until publish.
     */
    void putRaw(final long addr, final int len, final int id, final int flags)
    {
        final long desc = descGpa + (long)DESC_SIZE * nextAvail;
        final int withWrap = flags & ~(PACKED_F_AVAIL | PACKED_F_USED) |
            (availWrap == 1 ? PACKED_F_AVAIL : PACKED_F_USED);
        memory.putLong(desc + PACKED_DESC_ADDR, addr);
        memory.putInt(desc + PACKED_DESC_LEN, len);
        memory.putShort(desc + PACKED_DESC_ID, (short)id);
        if (rawHeadPending)
        {
            pendingHeadFlags[rawHeadIndex] = (short)withWrap;
            rawHeadPending = false;
        }
        else
        {
            memory.putShort(desc + PACKED_DESC_FLAGS, (short)withWrap);
        }
        numFree--;
        pendingSlots++;
        if (++nextAvail == size)
        {
            nextAvail = 0;
            availWrap ^= 1;
        }
    }

    /** Finishes the raw chain: {@code slots > 0} registers {@code id} as in flight. */
    void endRaw(final int id, final int slots, final long writable)
    {
        if (slots > 0)
        {
            slotCount[id] = slots;
            writableBytes[id] = writable;
            inFlight++;
        }
    }

    void writeTableEntry(final long table, final int i, final long addr, final int len, final int flags)
    {
        final long gpa = table + (long)DESC_SIZE * i;
        memory.putLong(gpa + PACKED_DESC_ADDR, addr);
        memory.putInt(gpa + PACKED_DESC_LEN, len);
        memory.putShort(gpa + PACKED_DESC_ID, (short)0);
        memory.putShort(gpa + PACKED_DESC_FLAGS, (short)flags);
    }

    private void writeDriverEvent(final int flags, final int offWrap)
    {
        memory.putIntRelease(driverEventGpa, flags << 16 | offWrap);
    }

    private static boolean isUsed(final int flags, final int wrap)
    {
        final int avail = (flags & PACKED_F_AVAIL) != 0 ? 1 : 0;
        final int used = (flags & PACKED_F_USED) != 0 ? 1 : 0;
        return avail == used && used == wrap;
    }

}
