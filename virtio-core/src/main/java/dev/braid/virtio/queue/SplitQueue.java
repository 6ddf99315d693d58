package dev.braid.virtio.queue;

import dev.braid.virtio.memory.GuestMemory;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static dev.braid.virtio.queue.SplitRingDescriptor.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * The device side of one split virtqueue (virtio 1.x, 2.7).
 *
 * <p>Everything the guest wrote is treated as hostile: indices, heads, descriptor addresses,
 * lengths, flags and next links all become a {@link ChainStatus} code, never an exception, an
 * access outside guest memory or an unbounded loop. One pop reads at most {@code size} buffer
 * descriptors plus one indirect pointer.
 *
 * <p>Rules enforced on a chain, beyond the obvious ones:
 * <ul>
 *   <li>A chain may hold at most {@code size} buffer descriptors, direct and indirect together
 *       (virtio 1.1/1.2, 2.7.5.3.1); more means a loop or an oversized chain: CHAIN_TOO_LONG.</li>
 *   <li>An indirect table holds 1..{@code size} descriptors; any other length, including one that
 *       is not a multiple of 16, is INDIRECT_BAD_LENGTH.</li>
 *   <li>An INDIRECT flag when VIRTIO_F_INDIRECT_DESC was not negotiated is INDIRECT_BAD_LENGTH
 *       too: without the feature no indirect table length is acceptable, and it keeps the chain
 *       error (complete with length 0) rather than guessing what the driver meant.</li>
 *   <li>Zero or more direct descriptors may be followed by one indirect descriptor (2.7.5.3.2).
 *       The WRITE flag of the indirect descriptor itself is ignored, as the spec says.</li>
 *   <li>A zero-length descriptor is not checked against memory (it touches none) and is not
 *       added as a segment, but it must still respect the readable-before-writable order.</li>
 * </ul>
 *
 * <p>Owned by one thread. The three ring areas are cached as (buffer, offset) pairs when each lies
 * in one guest memory region, which is the normal case; an area that spans adjacent regions is
 * served through {@link GuestMemory}'s spanning accessors instead.
 */
public final class SplitQueue implements DeviceQueue
{
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == LITTLE_ENDIAN;
    private static final int INDEX_MASK = 0xFFFF;

    private final GuestMemory memory;
    private final int size;
    private final int mask;
    private final boolean eventIdx;
    private final boolean indirect;

    private final long descGpa;
    private final long availGpa;
    private final long usedGpa;
    // Each area in one region is read through (base object, raw address of its first byte), set up
    // once: every offset used with them is a masked index into the area, which was range-checked
    // whole at setup, so no per-access check (GuestMemory's or UnsafeBuffer's) is needed.
    private final boolean descDirect;
    private final Object descBase;
    private final long descAddress;
    private final boolean availDirect;
    private final Object availBase;
    private final long availAddress;
    private final boolean usedDirect;
    private final Object usedBase;
    private final long usedAddress;
    private final int usedEventOffset;
    private final int availEventOffset;

    // Raw addresses of avail.idx and used.idx, for the acquire load and the release store.
    private final Object availIdxBase;
    private final long availIdxAddress;
    private final Object usedIdxBase;
    private final long usedIdxAddress;

    private int lastAvailIdx;
    private int shadowAvailIdx;
    private int usedIdx;
    private int staged;
    private int signalledUsedIdx;
    private int inFlight;
    private int brokenReason;
    private boolean notifyFlagSet;
    private boolean frozen;

    // The region the last buffer or indirect table fell in: most of a guest's buffers hit the same
    // one. Base object and raw address of its first byte too, to read indirect tables directly.
    private long cachedRegionBase;
    private long cachedRegionLength = -1;
    private Object cachedRegionObject;
    private long cachedRegionAddress;

    /**
     * @param memory       the guest's memory.
     * @param size         queue size, a power of two in 1..32768.
     * @param descTableGpa guest-physical address of the descriptor table.
     * @param availGpa     guest-physical address of the available ring.
     * @param usedGpa      guest-physical address of the used ring.
     * @param eventIdx     whether VIRTIO_F_EVENT_IDX was negotiated.
     * @param indirect     whether VIRTIO_F_INDIRECT_DESC was negotiated.
     * @throws IllegalArgumentException with {@link #checkLayout}'s reason when the layout is bad;
     *                                  a device calls checkLayout first and sets NEEDS_RESET.
     */
    public SplitQueue(
        final GuestMemory memory,
        final int size,
        final long descTableGpa,
        final long availGpa,
        final long usedGpa,
        final boolean eventIdx,
        final boolean indirect)
    {
        final String reason = checkLayout(memory, size, descTableGpa, availGpa, usedGpa);
        if (reason != null)
        {
            throw new IllegalArgumentException(reason);
        }
        this.memory = memory;
        this.size = size;
        this.mask = size - 1;
        this.eventIdx = eventIdx;
        this.indirect = indirect;
        this.descGpa = descTableGpa;
        this.availGpa = availGpa;
        this.usedGpa = usedGpa;
        this.usedEventOffset = (int)usedEventOffset(size);
        this.availEventOffset = (int)availEventOffset(size);

        final int descRegion = memory.regionIndex(descTableGpa, descriptorTableLength(size));
        descDirect = descRegion >= 0;
        descBase = descDirect ? memory.buffer(descRegion).byteArray() : null;
        descAddress = descDirect ? rawAddress(memory, descRegion, descTableGpa) : 0;
        final int availRegion = memory.regionIndex(availGpa, availRingLength(size));
        availDirect = availRegion >= 0;
        availBase = availDirect ? memory.buffer(availRegion).byteArray() : null;
        availAddress = availDirect ? rawAddress(memory, availRegion, availGpa) : 0;
        final int usedRegion = memory.regionIndex(usedGpa, usedRingLength(size));
        usedDirect = usedRegion >= 0;
        usedBase = usedDirect ? memory.buffer(usedRegion).byteArray() : null;
        usedAddress = usedDirect ? rawAddress(memory, usedRegion, usedGpa) : 0;

        final long availIdxGpa = availGpa + AVAIL_IDX_OFFSET;
        final int availIdxRegion = memory.regionIndex(availIdxGpa, 2);
        final UnsafeBuffer availIdxBuffer = memory.buffer(availIdxRegion);
        availIdxBase = availIdxBuffer.byteArray();
        availIdxAddress = availIdxBuffer.addressOffset() + memory.offset(availIdxRegion, availIdxGpa);
        final long usedIdxGpa = usedGpa + USED_IDX_OFFSET;
        final int usedIdxRegion = memory.regionIndex(usedIdxGpa, 2);
        final UnsafeBuffer usedIdxBuffer = memory.buffer(usedIdxRegion);
        usedIdxBase = usedIdxBuffer.byteArray();
        usedIdxAddress = usedIdxBuffer.addressOffset() + memory.offset(usedIdxRegion, usedIdxGpa);
    }

    /**
     * Validates a split ring layout before a queue is built on it.
     *
     * @return null when valid, otherwise a one-line reason.
     */
    public static String checkLayout(
        final GuestMemory memory, final int size, final long desc, final long avail, final long used)
    {
        if (memory == null)
        {
            return "no guest memory";
        }
        if (size < 1 || size > MAX_QUEUE_SIZE || (size & (size - 1)) != 0)
        {
            return "queue size " + size + " is not a power of two in 1.." + MAX_QUEUE_SIZE;
        }
        if ((desc & (DESC_TABLE_ALIGNMENT - 1)) != 0)
        {
            return "descriptor table 0x" + Long.toHexString(desc) + " is not " + DESC_TABLE_ALIGNMENT + "-byte aligned";
        }
        if ((avail & (AVAIL_ALIGNMENT - 1)) != 0)
        {
            return "available ring 0x" + Long.toHexString(avail) + " is not " + AVAIL_ALIGNMENT + "-byte aligned";
        }
        if ((used & (USED_ALIGNMENT - 1)) != 0)
        {
            return "used ring 0x" + Long.toHexString(used) + " is not " + USED_ALIGNMENT + "-byte aligned";
        }
        // isValidRange is overflow-safe: an area that would wrap past 2^64 is simply outside.
        if (!memory.isValidRange(desc, descriptorTableLength(size)))
        {
            return outside("descriptor table", desc, descriptorTableLength(size));
        }
        if (!memory.isValidRange(avail, availRingLength(size)))
        {
            return outside("available ring", avail, availRingLength(size));
        }
        if (!memory.isValidRange(used, usedRingLength(size)))
        {
            return outside("used ring", used, usedRingLength(size));
        }
        // The two indices are accessed atomically, so neither may straddle a region boundary.
        if (memory.regionIndex(avail + AVAIL_IDX_OFFSET, 2) < 0 || memory.regionIndex(used + USED_IDX_OFFSET, 2) < 0)
        {
            return "a ring index straddles a guest memory region boundary";
        }
        return null;
    }

    private static long rawAddress(final GuestMemory memory, final int region, final long gpa)
    {
        return memory.buffer(region).addressOffset() + memory.offset(region, gpa);
    }

    private static String outside(final String area, final long gpa, final long length)
    {
        return area + " [0x" + Long.toHexString(gpa) + ", +" + length + ") is not inside guest memory";
    }

    // ---------------------------------------------------------------- DeviceQueue

    public int size()
    {
        return size;
    }

    public int pop(final DescriptorChain chain)
    {
        if (brokenReason != 0)
        {
            return ChainStatus.QUEUE_BROKEN;
        }
        final int last = lastAvailIdx;
        if (last == shadowAvailIdx)
        {
            if (frozen)
            {
                return ChainStatus.EMPTY;
            }
            final int avail = readAvailIdx();
            if (avail == last)
            {
                return ChainStatus.EMPTY;
            }
            // At most `size` entries can be outstanding; anything else is a corrupt index.
            if (((avail - last) & INDEX_MASK) > size)
            {
                return breakQueue(ChainStatus.AVAIL_INDEX_JUMP);
            }
            shadowAvailIdx = avail;
        }

        final int head = availRingEntry(last & mask);
        if (head >= size)
        {
            return breakQueue(ChainStatus.HEAD_OUT_OF_RANGE);
        }
        // The chain is consumed even when it turns out bad: the caller completes it with length 0.
        lastAvailIdx = (last + 1) & INDEX_MASK;
        inFlight++;
        chain.reset(head);
        return walk(chain, head);
    }

    public boolean hasAvailable()
    {
        if (brokenReason != 0)
        {
            return false;
        }
        return lastAvailIdx != shadowAvailIdx || !frozen && readAvailIdx() != lastAvailIdx;
    }

    public void addUsed(final int id, final int writtenLength)
    {
        final int slot = (usedIdx + staged) & mask;
        final int offset = USED_RING_OFFSET + slot * USED_ELEMENT_LENGTH;
        // le32 id then le32 len: one little-endian 64-bit store writes both.
        final long element = (id & 0xFFFF_FFFFL) | ((long)writtenLength << 32);
        if (usedDirect)
        {
            UnsafeApi.putLong(usedBase, usedAddress + offset, NATIVE_LITTLE_ENDIAN ? element : Long.reverseBytes(element));
        }
        else
        {
            memory.putLong(usedGpa + offset, element);
        }
        staged++;
        inFlight--;
    }

    public void publishUsed()
    {
        if (staged == 0)
        {
            return;
        }
        final int idx = (usedIdx + staged) & INDEX_MASK;
        usedIdx = idx;
        staged = 0;
        // Release: the used elements written above are visible to a driver that sees this index.
        final short value = (short)idx;
        UnsafeApi.putShortRelease(usedIdxBase, usedIdxAddress, NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The window is every index published since the previous call, so call this at least once
     * per 65535 published elements (once per batch is the norm).
     */
    public boolean needsInterrupt()
    {
        final int old = signalledUsedIdx;
        final int now = usedIdx;
        signalledUsedIdx = now;
        if (old == now)
        {
            return false;
        }
        // Store-load fence: our used.idx store must be visible before we read the driver's
        // used_event / flags. The driver does the mirror image (writes used_event, fences, re-reads
        // used.idx); without fences on both sides each can read the other's stale value and the
        // interrupt is lost while the driver sleeps.
        GuestMemory.fullFence();
        if (eventIdx)
        {
            final int usedEvent = availShort(usedEventOffset) & INDEX_MASK;
            return SplitRingDescriptor.needEvent(usedEvent, now, old);
        }
        // Without EVENT_IDX the driver's NO_INTERRUPT flag decides (with it, the flag is ignored).
        return (availShort(AVAIL_FLAGS_OFFSET) & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
    }

    /**
     * {@inheritDoc}
     *
     * <p>With EVENT_IDX, avail_event is simply left where it is: the driver kicks at most once more,
     * when its index crosses it.
     */
    public void disableNotifications()
    {
        if (!eventIdx && !notifyFlagSet)
        {
            usedPutShort(USED_FLAGS_OFFSET, VIRTQ_USED_F_NO_NOTIFY);
            notifyFlagSet = true;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>With EVENT_IDX, writes avail_event = last_avail_idx: kick me for anything I have not popped.
     */
    public boolean enableNotifications()
    {
        if (eventIdx)
        {
            usedPutShort(availEventOffset, (short)lastAvailIdx);
        }
        else if (notifyFlagSet)
        {
            usedPutShort(USED_FLAGS_OFFSET, (short)0);
            notifyFlagSet = false;
        }
        // Store-load fence: the driver publishes avail.idx, fences, then reads our flag/avail_event.
        // We publish the flag/avail_event, fence, then re-read avail.idx, so at least one side sees
        // the other and a chain cannot sit unnoticed.
        GuestMemory.fullFence();
        return hasAvailable();
    }

    public boolean isBroken()
    {
        return brokenReason != 0;
    }

    public int brokenReason()
    {
        return brokenReason;
    }

    public int inFlight()
    {
        return inFlight;
    }

    /** Back to the state after setup. Guest memory is not touched: the driver re-initialises it. */
    public void reset()
    {
        lastAvailIdx = 0;
        shadowAvailIdx = 0;
        usedIdx = 0;
        staged = 0;
        signalledUsedIdx = 0;
        inFlight = 0;
        brokenReason = 0;
        notifyFlagSet = false;
        frozen = false;
    }

    /**
     * Pops nothing more: the ring ends at {@link #lastAvailIndex()}, whatever the driver posts
     * after it, while used elements are still added and published. A stopping transport drains
     * what it already popped this way and then reports {@code lastAvailIndex()} as the next avail
     * index, with every chain before it completed. Until {@link #reset()}. Owner thread, or any
     * thread while no thread runs the queue (then the next thread to run it must be started after).
     */
    public void freeze()
    {
        frozen = true;
        shadowAvailIdx = lastAvailIdx;
    }

    // ---------------------------------------------------------------- extras

    /** Index of the next available entry to pop (last_avail_idx), 0..65535. */
    public int lastAvailIndex()
    {
        return lastAvailIdx;
    }

    /** The used index as last published, 0..65535. */
    public int usedIndex()
    {
        return usedIdx;
    }

    public boolean eventIdx()
    {
        return eventIdx;
    }

    public boolean indirect()
    {
        return indirect;
    }

    /**
     * For tests and the driver model only: makes the queue behave as if it had already consumed
     * {@code availIdx} chains and published {@code usedIdx} used elements, so that the 16-bit
     * wrap-around is reached in a few steps. Writes {@code usedIdx} to used.idx; the driver side
     * must set avail.idx itself. Real rings always start at 0 (a VMM restoring a migrated queue
     * would use the same call). Only valid with nothing in flight.
     */
    public void startAt(final int availIdx, final int usedIdx)
    {
        if (inFlight != 0 || staged != 0)
        {
            throw new IllegalStateException("startAt with chains in flight: " + inFlight);
        }
        lastAvailIdx = availIdx & INDEX_MASK;
        shadowAvailIdx = lastAvailIdx;
        this.usedIdx = usedIdx & INDEX_MASK;
        signalledUsedIdx = this.usedIdx;
        final short value = (short)this.usedIdx;
        UnsafeApi.putShortRelease(usedIdxBase, usedIdxAddress, NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value));
    }

    public String toString()
    {
        return "SplitQueue{size=" + size + ", lastAvail=" + lastAvailIdx + ", used=" + usedIdx +
            ", inFlight=" + inFlight + (brokenReason != 0 ? ", broken=" + ChainStatus.describe(brokenReason) : "") + '}';
    }

    // ---------------------------------------------------------------- chain walk

    private int walk(final DescriptorChain chain, final int head)
    {
        // Every buffer descriptor costs one unit of budget; the single indirect pointer is free.
        // So a walk reads at most size + 1 descriptors, whatever loops the guest built.
        int budget = size;
        int directCount = 0;
        int index = head;
        int status;
        while (true)
        {
            if (budget == 0)
            {
                status = ChainStatus.CHAIN_TOO_LONG;
                break;
            }
            directCount++;
            // index < size always holds here (head and every next are checked), and the whole
            // table was range-checked at setup, so the entry is inside it.
            final long entry = (long)index * DESCRIPTOR_LENGTH;
            final long address;
            final long word;
            if (descDirect)
            {
                address = getLong(descBase, descAddress + entry + DESC_ADDR_OFFSET);
                word = getLong(descBase, descAddress + entry + DESC_LEN_OFFSET);
            }
            else
            {
                address = memory.getLong(descGpa + entry + DESC_ADDR_OFFSET);
                word = memory.getLong(descGpa + entry + DESC_LEN_OFFSET);
            }
            // word = le32 len | le16 flags << 32 | le16 next << 48
            final int flags = (int)(word >>> 32) & INDEX_MASK;
            if ((flags & VIRTQ_DESC_F_INDIRECT) != 0)
            {
                status = walkIndirect(chain, address, word & 0xFFFF_FFFFL, flags, budget);
                break;
            }
            budget--;
            status = addSegment(chain, address, word & 0xFFFF_FFFFL, flags);
            if (status != ChainStatus.POPPED || (flags & VIRTQ_DESC_F_NEXT) == 0)
            {
                break;
            }
            final int next = (int)(word >>> 48);
            if (next >= size)
            {
                status = ChainStatus.NEXT_OUT_OF_RANGE;
                break;
            }
            index = next;
        }
        chain.descriptorCount(directCount);
        return status;
    }

    /** Walks the indirect table an INDIRECT descriptor points at, with what is left of the budget. */
    private int walkIndirect(
        final DescriptorChain chain, final long tableGpa, final long length, final int flags, final int startBudget)
    {
        if (!indirect)
        {
            return ChainStatus.INDIRECT_BAD_LENGTH;
        }
        if ((flags & VIRTQ_DESC_F_NEXT) != 0)
        {
            return ChainStatus.INDIRECT_WITH_NEXT;
        }
        if (length == 0 || (length & (DESCRIPTOR_LENGTH - 1)) != 0 || length > descriptorTableLength(size))
        {
            return ChainStatus.INDIRECT_BAD_LENGTH;
        }
        // The whole table is range-checked once: in one region it is read directly, else (it
        // spans adjacent regions) through the spanning accessors.
        final boolean direct;
        if (inCachedRegion(tableGpa, length) || cacheRegionOf(tableGpa, length))
        {
            direct = true;
        }
        else if (memory.isValidRange(tableGpa, length))
        {
            direct = false;
        }
        else
        {
            return ChainStatus.ADDRESS_OUT_OF_MEMORY;
        }
        final Object base = cachedRegionObject;
        final long tableAddress = cachedRegionAddress + (tableGpa - cachedRegionBase);
        final int entries = (int)(length / DESCRIPTOR_LENGTH);
        int budget = startBudget;
        int index = 0;
        while (true)
        {
            if (budget == 0)
            {
                return ChainStatus.CHAIN_TOO_LONG;
            }
            // index < entries always holds here, so the entry is inside the checked table.
            final long entry = (long)index * DESCRIPTOR_LENGTH;
            final long address;
            final long word;
            if (direct)
            {
                address = getLong(base, tableAddress + entry + DESC_ADDR_OFFSET);
                word = getLong(base, tableAddress + entry + DESC_LEN_OFFSET);
            }
            else
            {
                address = memory.getLong(tableGpa + entry + DESC_ADDR_OFFSET);
                word = memory.getLong(tableGpa + entry + DESC_LEN_OFFSET);
            }
            final int entryFlags = (int)(word >>> 32) & INDEX_MASK;
            if ((entryFlags & VIRTQ_DESC_F_INDIRECT) != 0)
            {
                return ChainStatus.NESTED_INDIRECT;
            }
            budget--;
            final int status = addSegment(chain, address, word & 0xFFFF_FFFFL, entryFlags);
            if (status != ChainStatus.POPPED || (entryFlags & VIRTQ_DESC_F_NEXT) == 0)
            {
                return status;
            }
            final int next = (int)(word >>> 48);
            if (next >= entries)
            {
                return ChainStatus.NEXT_OUT_OF_RANGE;
            }
            index = next;
        }
    }

    private int addSegment(final DescriptorChain chain, final long address, final long length, final int flags)
    {
        final boolean writable = (flags & VIRTQ_DESC_F_WRITE) != 0;
        if (length != 0 && !inMemory(address, length))
        {
            return ChainStatus.ADDRESS_OUT_OF_MEMORY;
        }
        if (!chain.add(address, (int)length, writable))
        {
            return chain.wouldBreakOrder(writable) ? ChainStatus.READABLE_AFTER_WRITABLE : ChainStatus.TOO_MANY_SEGMENTS;
        }
        return ChainStatus.POPPED;
    }

    private boolean inMemory(final long address, final long length)
    {
        return inCachedRegion(address, length) || cacheRegionOf(address, length) || memory.isValidRange(address, length);
    }

    private boolean inCachedRegion(final long address, final long length)
    {
        // address >= base keeps the difference non-negative, so the comparison cannot overflow
        // (length <= 2^32 and a region length is non-negative; the empty cache has length -1).
        final long base = cachedRegionBase;
        return address >= base && address - base <= cachedRegionLength - length;
    }

    /** Finds the one region holding the range and caches it; false when none does. */
    private boolean cacheRegionOf(final long address, final long length)
    {
        final int region = memory.regionIndex(address, length);
        if (region < 0)
        {
            return false;
        }
        cachedRegionBase = memory.region(region).guestPhysicalBase();
        cachedRegionLength = memory.region(region).length();
        cachedRegionObject = memory.buffer(region).byteArray();
        cachedRegionAddress = memory.buffer(region).addressOffset();
        return true;
    }

    private int breakQueue(final int reason)
    {
        brokenReason = reason;
        return reason;
    }

    // ---------------------------------------------------------------- ring field access

    private int readAvailIdx()
    {
        // Acquire: the ring entries and descriptors this index covers are read after it.
        final short value = UnsafeApi.getShortAcquire(availIdxBase, availIdxAddress);
        return (NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value)) & INDEX_MASK;
    }

    private int availRingEntry(final int slot)
    {
        return availShort(AVAIL_RING_OFFSET + slot * AVAIL_ELEMENT_LENGTH) & INDEX_MASK;
    }

    private short availShort(final int offset)
    {
        if (availDirect)
        {
            final short value = UnsafeApi.getShort(availBase, availAddress + offset);
            return NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value);
        }
        return memory.getShort(availGpa + offset);
    }

    private static long getLong(final Object base, final long address)
    {
        final long value = UnsafeApi.getLong(base, address);
        return NATIVE_LITTLE_ENDIAN ? value : Long.reverseBytes(value);
    }

    private void usedPutShort(final int offset, final short value)
    {
        if (usedDirect)
        {
            UnsafeApi.putShort(usedBase, usedAddress + offset, NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value));
        }
        else
        {
            memory.putShort(usedGpa + offset, value);
        }
    }
}
