package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.testkit.driver.DriverRingDescriptor.AVAIL_F_NO_INTERRUPT;
import static dev.braid.testkit.driver.DriverRingDescriptor.AVAIL_FLAGS;
import static dev.braid.testkit.driver.DriverRingDescriptor.AVAIL_IDX;
import static dev.braid.testkit.driver.DriverRingDescriptor.AVAIL_RING;
import static dev.braid.testkit.driver.DriverRingDescriptor.AVAIL_ENTRY_SIZE;
import static dev.braid.testkit.driver.DriverRingDescriptor.DESC_SIZE;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_INDIRECT;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_NEXT;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_WRITE;
import static dev.braid.testkit.driver.DriverRingDescriptor.SPLIT_DESC_ADDR;
import static dev.braid.testkit.driver.DriverRingDescriptor.SPLIT_DESC_FLAGS;
import static dev.braid.testkit.driver.DriverRingDescriptor.SPLIT_DESC_LEN;
import static dev.braid.testkit.driver.DriverRingDescriptor.SPLIT_DESC_NEXT;
import static dev.braid.testkit.driver.DriverRingDescriptor.USED_ENTRY_ID;
import static dev.braid.testkit.driver.DriverRingDescriptor.USED_ENTRY_LEN;
import static dev.braid.testkit.driver.DriverRingDescriptor.USED_ENTRY_SIZE;
import static dev.braid.testkit.driver.DriverRingDescriptor.USED_F_NO_NOTIFY;
import static dev.braid.testkit.driver.DriverRingDescriptor.USED_FLAGS;
import static dev.braid.testkit.driver.DriverRingDescriptor.USED_IDX;
import static dev.braid.testkit.driver.DriverRingDescriptor.USED_RING;

/**
 * The driver side of a split virtqueue (virtio 1.x, 2.7).
 *
 * <p>Descriptors come from a free list kept in a driver-private array, never read back from guest
 * memory, so a device that scribbles on the descriptor table cannot corrupt the driver's
 * bookkeeping. A chain keeps the links it had on the free list, which is how it is freed again.
 *
 * <p>{@code startIndex} starts avail.idx and used.idx at an arbitrary 16-bit value so that tests
 * reach the 2^16 wrap quickly. The constructor writes both into the rings, and the device side
 * must be started at the same index through its own test hook; {@link #availIndex()} and
 * {@link #usedIndex()} tell the test where the driver stands.
 */
public final class SplitDriverQueue extends AbstractDriverQueue
{
    private static final int INTERRUPTS_ENABLED = 0;
    private static final int INTERRUPTS_DISABLED = 1;
    private static final int INTERRUPTS_DELAYED = 2;

    private final int mask;
    private final int startIndex;
    private final long descGpa;
    private final long availGpa;
    private final long usedGpa;
    private final long usedEventGpa;
    private final long availEventGpa;

    /** Free-list link of each free descriptor, and chain link of each posted one. */
    private final int[] link;
    /** Per head: descriptors the chain holds in the table; 0 when the head is not in flight. */
    private final int[] chainLength;
    /** Per head: writable bytes posted, to check the used length against. */
    private final long[] writableBytes;

    private int freeHead;
    private int nextAvail;
    private int publishedAvail;
    private int kickedAvail;
    private long publishedSinceKick;
    private int lastUsed;
    private int interruptMode;

    public SplitDriverQueue(final GuestMemory memory, final RingLayout layout, final boolean eventIdx)
    {
        this(memory, layout, eventIdx, 0);
    }

    /**
     * @param startIndex initial avail.idx and used.idx (0..65535); the device must be told too
     */
    public SplitDriverQueue(final GuestMemory memory, final RingLayout layout, final boolean eventIdx, final int startIndex)
    {
        super(memory, layout, eventIdx, false);
        if (startIndex < 0 || startIndex > 0xFFFF)
        {
            throw new IllegalArgumentException("start index must be 16-bit: " + startIndex);
        }
        this.mask = size - 1;
        this.startIndex = startIndex;
        this.descGpa = layout.descGpa();
        this.availGpa = layout.availGpa();
        this.usedGpa = layout.usedGpa();
        this.usedEventGpa = availGpa + DriverRingDescriptor.usedEventOffset(size);
        this.availEventGpa = usedGpa + DriverRingDescriptor.availEventOffset(size);
        this.link = new int[size];
        this.chainLength = new int[size];
        this.writableBytes = new long[size];
        reset();
    }

    public void reset()
    {
        memory.setMemory(descGpa, layout.descriptorAreaLength(), (byte)0);
        memory.setMemory(availGpa, layout.driverAreaLength(), (byte)0);
        memory.setMemory(usedGpa, layout.deviceAreaLength(), (byte)0);
        memory.putShort(availGpa + AVAIL_IDX, (short)startIndex);
        // The device owns used.idx, but a freshly reset device would start it here too.
        memory.putShort(usedGpa + USED_IDX, (short)startIndex);
        for (int i = 0; i < size; i++)
        {
            link[i] = i + 1;
            chainLength[i] = 0;
            writableBytes[i] = 0;
        }
        freeHead = 0;
        numFree = size;
        inFlight = 0;
        nextAvail = startIndex;
        publishedAvail = startIndex;
        kickedAvail = startIndex;
        publishedSinceKick = 0;
        lastUsed = startIndex;
        interruptMode = INTERRUPTS_ENABLED;
        if (eventIdx)
        {
            memory.putShort(usedEventGpa, (short)startIndex);
        }
        clearFaults();
    }

    /** The avail.idx value last published (16-bit). */
    public int availIndex()
    {
        return publishedAvail;
    }

    /** The used index up to which the driver has reaped (16-bit). */
    public int usedIndex()
    {
        return lastUsed;
    }

    public int startIndex()
    {
        return startIndex;
    }

    public int addBuffer(final long gpa, final int length, final boolean deviceWritable)
    {
        if (numFree == 0)
        {
            return NO_ROOM;
        }
        final int head = takeDescriptors(1);
        writeDescriptor(head, gpa, length, deviceWritable ? F_WRITE : 0, 0);
        makeAvailable(head, 1, deviceWritable ? length & 0xFFFF_FFFFL : 0);
        return head;
    }

    public int addChain(final BufferChain chain, final boolean indirect)
    {
        final int count = chain.count();
        final int needed = slotsFor(chain, indirect);
        if (numFree < needed)
        {
            return NO_ROOM;
        }
        final int head = takeDescriptors(needed);
        if (indirect)
        {
            final long table = layout.indirectTableGpa(head);
            for (int i = 0; i < count; i++)
            {
                final boolean last = i == count - 1;
                writeTableEntry(table, i, chain.gpa(i), chain.length(i),
                    (last ? 0 : F_NEXT) | (chain.isWritable(i) ? F_WRITE : 0), last ? 0 : i + 1);
            }
            writeDescriptor(head, table, count * DESC_SIZE, F_INDIRECT, 0);
        }
        else
        {
            int d = head;
            for (int i = 0; i < count; i++)
            {
                final boolean last = i == count - 1;
                writeDescriptor(d, chain.gpa(i), chain.length(i),
                    (last ? 0 : F_NEXT) | (chain.isWritable(i) ? F_WRITE : 0), last ? 0 : link[d]);
                d = link[d];
            }
        }
        makeAvailable(head, needed, chain.writableBytes());
        return head;
    }

    public void publish()
    {
        // Release: the descriptors and ring entries written above are visible before the new idx.
        memory.putShortRelease(availGpa + AVAIL_IDX, (short)nextAvail);
        publishedSinceKick += (nextAvail - publishedAvail) & 0xFFFF;
        publishedAvail = nextAvail;
    }

    public boolean needsKick()
    {
        final long added = publishedSinceKick;
        if (added == 0)
        {
            return false;
        }
        final int old = kickedAvail;
        kickedAvail = publishedAvail;
        publishedSinceKick = 0;
        // Store-load: avail.idx must be visible before we read the device's suppression field, or
        // the device may go to sleep on the old index while we skip the kick.
        GuestMemory.fullFence();
        if (added > 0xFFFF)
        {
            return true;
        }
        if (eventIdx)
        {
            final int availEvent = memory.getShort(availEventGpa) & 0xFFFF;
            return DriverRingDescriptor.passed(availEvent, publishedAvail, old);
        }
        return (memory.getShort(usedGpa + USED_FLAGS) & USED_F_NO_NOTIFY) == 0;
    }

    public int reap(final UsedConsumer consumer, final int limit)
    {
        if (broken)
        {
            return 0;
        }
        // Acquire: the used elements below were written before the device published this idx.
        final int deviceUsed = memory.getShortAcquire(usedGpa + USED_IDX) & 0xFFFF;
        final int pending = (deviceUsed - lastUsed) & 0xFFFF;
        if (pending > size)
        {
            fault(DeviceFault.USED_INDEX_JUMP);
            broken = true;
            return 0;
        }
        final int toReap = Math.min(pending, limit);
        int delivered = 0;
        for (int i = 0; i < toReap; i++)
        {
            final long element = usedGpa + USED_RING + (long)USED_ENTRY_SIZE * (lastUsed & mask);
            final int id = memory.getInt(element + USED_ENTRY_ID);
            final int len = memory.getInt(element + USED_ENTRY_LEN);
            lastUsed = (lastUsed + 1) & 0xFFFF;
            if (id < 0 || id >= size || chainLength[id] == 0)
            {
                fault(DeviceFault.UNKNOWN_ID);
                continue;
            }
            if ((len & 0xFFFF_FFFFL) > writableBytes[id])
            {
                fault(DeviceFault.LENGTH_TOO_LONG);
            }
            freeChain(id);
            consumer.onUsed(id, len);
            delivered++;
        }
        if (eventIdx && toReap > 0)
        {
            if (interruptMode == INTERRUPTS_ENABLED)
            {
                memory.putShort(usedEventGpa, (short)lastUsed);
            }
            else if (interruptMode == INTERRUPTS_DISABLED)
            {
                memory.putShort(usedEventGpa, (short)(lastUsed - 1));
            }
        }
        return delivered;
    }

    public boolean hasPendingUsed()
    {
        return (memory.getShortAcquire(usedGpa + USED_IDX) & 0xFFFF) != lastUsed;
    }

    public void enableInterrupts()
    {
        interruptMode = INTERRUPTS_ENABLED;
        if (eventIdx)
        {
            memory.putShort(usedEventGpa, (short)lastUsed);
        }
        else
        {
            memory.putShort(availGpa + AVAIL_FLAGS, (short)0);
        }
        // Store-load: the device must see the request before we look for used entries once more.
        GuestMemory.fullFence();
    }

    public void disableInterrupts()
    {
        interruptMode = INTERRUPTS_DISABLED;
        if (eventIdx)
        {
            // With EVENT_IDX avail.flags must stay 0 (2.7.7); an event one behind is not reached
            // before the driver reaps again, as at most size entries can be outstanding.
            memory.putShort(usedEventGpa, (short)(lastUsed - 1));
        }
        else
        {
            memory.putShort(availGpa + AVAIL_FLAGS, (short)AVAIL_F_NO_INTERRUPT);
        }
    }

    public void interruptAfter(final int n)
    {
        checkInterruptAfter(n);
        interruptMode = INTERRUPTS_DELAYED;
        memory.putShort(usedEventGpa, (short)(lastUsed + n - 1));
        GuestMemory.fullFence();
    }

    public String toString()
    {
        return "SplitDriverQueue{size=" + size + ", avail=" + publishedAvail + ", used=" + lastUsed +
            ", free=" + numFree + ", inFlight=" + inFlight + ", faults=" + deviceFaults + '}';
    }

    // ---------------------------------------------------------------- hooks for MalformedChains

    /** Takes {@code n} descriptors off the free list; they stay linked through {@link #link}. */
    int takeDescriptors(final int n)
    {
        final int head = freeHead;
        int d = head;
        for (int i = 0; i < n; i++)
        {
            d = link[d];
        }
        freeHead = d;
        numFree -= n;
        return head;
    }

    /** The descriptor after {@code d} in its chain (or on the free list). */
    int linkOf(final int d)
    {
        return link[d];
    }

    void writeDescriptor(final int index, final long addr, final int len, final int flags, final int next)
    {
        final long gpa = descGpa + (long)DESC_SIZE * index;
        memory.putLong(gpa + SPLIT_DESC_ADDR, addr);
        memory.putInt(gpa + SPLIT_DESC_LEN, len);
        memory.putShort(gpa + SPLIT_DESC_FLAGS, (short)flags);
        memory.putShort(gpa + SPLIT_DESC_NEXT, (short)next);
    }

    void writeTableEntry(final long table, final int i, final long addr, final int len, final int flags, final int next)
    {
        final long gpa = table + (long)DESC_SIZE * i;
        memory.putLong(gpa + SPLIT_DESC_ADDR, addr);
        memory.putInt(gpa + SPLIT_DESC_LEN, len);
        memory.putShort(gpa + SPLIT_DESC_FLAGS, (short)flags);
        memory.putShort(gpa + SPLIT_DESC_NEXT, (short)next);
    }

    /** Records {@code head} as in flight and appends it to the available ring (unpublished). */
    void makeAvailable(final int head, final int descriptors, final long writable)
    {
        chainLength[head] = descriptors;
        writableBytes[head] = writable;
        inFlight++;
        appendAvailEntry(head);
    }

    /** Appends a raw value to the available ring without any bookkeeping. */
    void appendAvailEntry(final int value)
    {
        memory.putShort(availGpa + AVAIL_RING + (long)AVAIL_ENTRY_SIZE * (nextAvail & mask), (short)value);
        nextAvail = (nextAvail + 1) & 0xFFFF;
    }

    /** Moves the driver's avail index without writing ring entries. */
    void skipAvail(final int delta)
    {
        nextAvail = (nextAvail + delta) & 0xFFFF;
    }

    private void freeChain(final int head)
    {
        final int n = chainLength[head];
        int last = head;
        for (int i = 1; i < n; i++)
        {
            last = link[last];
        }
        link[last] = freeHead;
        freeHead = head;
        numFree += n;
        chainLength[head] = 0;
        writableBytes[head] = 0;
        inFlight--;
    }

}
