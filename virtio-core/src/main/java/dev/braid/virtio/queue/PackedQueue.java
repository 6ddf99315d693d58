package dev.braid.virtio.queue;

import dev.braid.virtio.memory.GuestMemory;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.braid.virtio.queue.PackedRingDescriptor.DESCRIPTOR_LENGTH;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_ADDR_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_FLAGS_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_ID_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_LEN_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.DESC_RING_ALIGNMENT;
import static dev.braid.virtio.queue.PackedRingDescriptor.EVENT_ALIGNMENT;
import static dev.braid.virtio.queue.PackedRingDescriptor.EVENT_FLAGS_OFFSET;
import static dev.braid.virtio.queue.PackedRingDescriptor.EVENT_STRUCTURE_LENGTH;
import static dev.braid.virtio.queue.PackedRingDescriptor.MAX_QUEUE_SIZE;
import static dev.braid.virtio.queue.PackedRingDescriptor.RING_EVENT_FLAGS_DESC;
import static dev.braid.virtio.queue.PackedRingDescriptor.RING_EVENT_FLAGS_DISABLE;
import static dev.braid.virtio.queue.PackedRingDescriptor.RING_EVENT_FLAGS_ENABLE;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_AVAIL;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_INDIRECT;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_NEXT;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_USED;
import static dev.braid.virtio.queue.PackedRingDescriptor.VIRTQ_DESC_F_WRITE;

/**
 * The device side of a packed virtqueue (VIRTIO_F_RING_PACKED, virtio 1.1+ section 2.8).
 *
 * <p>One descriptor ring is shared both ways: the driver marks descriptors available (AVAIL bit ==
 * its wrap counter, USED bit != it), the device overwrites consumed slots with used descriptors
 * (AVAIL == USED == the device's wrap counter). The device keeps two cursors, each an index plus a
 * wrap counter: {@code next_avail} for popping and {@code next_used} for writing completions.
 *
 * <p>Decisions the spec leaves to the device:
 * <ul>
 *   <li>A chain whose last descriptor is found but whose contents are bad is a <b>chain error</b>:
 *       its slots are consumed, its id becomes in flight and the caller completes it with 0.</li>
 *   <li>When the id cannot be used, the ring is broken (NEEDS_RESET): the chain never ends within
 *       the available descriptors ({@link ChainStatus#CHAIN_UNTERMINATED}), the id is {@code >=
 *       size} ({@link ChainStatus#HEAD_OUT_OF_RANGE}, since no used descriptor could name it and
 *       the driver would lose those slots for good), or the id is still in flight ({@link
 *       ChainStatus#BUFFER_ID_IN_USE}, since two completions for one id would desynchronise the
 *       driver's slot accounting).</li>
 *   <li>An indirect table longer than the queue size is {@link ChainStatus#CHAIN_TOO_LONG}: the
 *       spec caps every descriptor list at the queue size.</li>
 *   <li>INDIRECT without VIRTIO_F_INDIRECT_DESC is {@link ChainStatus#INDIRECT_NOT_NEGOTIATED}; an
 *       INDIRECT descriptor that has NEXT or ends a NEXT chain is {@link ChainStatus#INDIRECT_WITH_NEXT}.
 *       Inside a table only WRITE counts; NEXT and other bits are reserved and ignored, INDIRECT is
 *       {@link ChainStatus#NESTED_INDIRECT}.</li>
 *   <li>Zero-length descriptors are skipped without checking their address: they touch no memory.</li>
 *   <li>{@link #addUsed} for an id that is not in flight (a caller bug, or a completion that
 *       outlived {@link #reset}) is dropped and counted, never written into the ring.</li>
 *   <li>The ring may span adjacent guest memory regions as long as no descriptor straddles a
 *       boundary; the event structures must each lie in one region (they are single 32-bit accesses).</li>
 * </ul>
 *
 * <p>Completions are out of order: {@link #addUsed} writes at {@code next_used} and skips the
 * number of ring slots that buffer's chain consumed (recorded per id at pop time). Within a batch
 * the first used descriptor's flags are written last, by {@link #publishUsed} with release
 * semantics; the others' flags are written at once with plain stores. That is safe because the
 * driver only ever polls the next used slot: it cannot look past the batch's first descriptor
 * before that descriptor's flags are visible, and the release orders every earlier store before
 * them (the spec allows this, as for multi-buffer requests).
 *
 * <p>Owned by one thread; not thread-safe. Nothing here allocates after construction.
 */
public final class PackedQueue implements DeviceQueue
{
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final int AVAIL_USED_MASK = (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) & 0xFFFF;
    private static final int AVAILABLE_WRAP_1 = VIRTQ_DESC_F_AVAIL;
    private static final int AVAILABLE_WRAP_0 = VIRTQ_DESC_F_USED & 0xFFFF;
    private static final int USED_WRAP_1 = AVAIL_USED_MASK;
    private static final int USED_WRAP_0 = 0;
    private static final int NOTIFY_UNKNOWN = -1;
    /** The event structure is accessed as one little-endian int: off_wrap low, flags high. */
    private static final int EVENT_FLAGS_SHIFT = EVENT_FLAGS_OFFSET * 8;

    private final GuestMemory memory;
    private final int size;
    private final long descRingGpa;
    private final long driverEventGpa;
    private final long deviceEventGpa;
    private final boolean eventIdx;
    private final boolean indirect;

    // The ring as pieces, one per guest memory region it crosses; usually exactly one.
    // Slot s of piece p lives at (ringBases[p], ringOffsets[p] + s * 16).
    private final int[] ringFirstSlots;
    private final Object[] ringBases;
    private final long[] ringOffsets;
    private final int lastRingPiece;
    // The usual case, one piece, without the piece search.
    private final boolean singlePiece;
    private final Object ringBase0;
    private final long ringOffset0;

    // The largest guest memory region, checked inline before the general range check; its base
    // object and raw address of its first byte let indirect tables in it be read directly.
    private final long hotRegionBase;
    private final long hotRegionLength;
    private final Object hotRegionObject;
    private final long hotRegionAddress;

    /** Ring slots each in-flight buffer id consumed; 0 when the id is not in flight. */
    private final int[] chainSlots;

    private int nextAvail;
    private boolean availWrap;
    private int nextUsed;
    private boolean usedWrap;
    private int inFlight;
    private boolean broken;
    private int brokenReason;

    private int pendingCount;
    private int pendingSlots;
    private int pendingFirstSlot;
    private short pendingFirstFlags;

    private int publishedPosition;
    private int eventWindowStart;
    private int publishedSinceEvent;
    private int notifyState = NOTIFY_UNKNOWN;
    private long ignoredCompletions;

    public PackedQueue(
        final GuestMemory memory,
        final int size,
        final long descRingGpa,
        final long driverEventGpa,
        final long deviceEventGpa,
        final boolean eventIdx,
        final boolean indirect)
    {
        final String reason = checkLayout(memory, size, descRingGpa, driverEventGpa, deviceEventGpa);
        if (reason != null)
        {
            throw new IllegalArgumentException(reason);
        }
        this.memory = memory;
        this.size = size;
        this.descRingGpa = descRingGpa;
        this.driverEventGpa = driverEventGpa;
        this.deviceEventGpa = deviceEventGpa;
        this.eventIdx = eventIdx;
        this.indirect = indirect;
        this.chainSlots = new int[size];

        final int pieces = countRingPieces(memory, descRingGpa, size);
        ringFirstSlots = new int[pieces];
        ringBases = new Object[pieces];
        ringOffsets = new long[pieces];
        lastRingPiece = pieces - 1;
        final long end = descRingGpa + PackedRingDescriptor.descriptorRingLength(size);
        long gpa = descRingGpa;
        for (int p = 0; p < pieces; p++)
        {
            final int r = memory.regionIndex(gpa, DESCRIPTOR_LENGTH);
            final UnsafeBuffer buffer = memory.buffer(r);
            final int firstSlot = (int)((gpa - descRingGpa) / DESCRIPTOR_LENGTH);
            ringFirstSlots[p] = firstSlot;
            ringBases[p] = buffer.byteArray();
            ringOffsets[p] = buffer.addressOffset() + memory.offset(r, gpa) - (long)firstSlot * DESCRIPTOR_LENGTH;
            gpa = Math.min(end, memory.region(r).guestPhysicalEnd());
        }
        int largest = 0;
        for (int r = 1; r < memory.regionCount(); r++)
        {
            if (memory.region(r).length() > memory.region(largest).length())
            {
                largest = r;
            }
        }
        singlePiece = pieces == 1;
        ringBase0 = ringBases[0];
        ringOffset0 = ringOffsets[0];
        hotRegionBase = memory.region(largest).guestPhysicalBase();
        hotRegionLength = memory.region(largest).length();
        hotRegionObject = memory.buffer(largest).byteArray();
        hotRegionAddress = memory.buffer(largest).addressOffset();
        reset();
    }

    /**
     * Validates a packed queue layout before any access.
     *
     * @return null when usable, else a one-line reason.
     */
    public static String checkLayout(
        final GuestMemory memory,
        final int size,
        final long descRing,
        final long driverEvent,
        final long deviceEvent)
    {
        if (size < 1 || size > MAX_QUEUE_SIZE)
        {
            return "packed queue size must be 1.." + MAX_QUEUE_SIZE + ": " + size;
        }
        if ((descRing & (DESC_RING_ALIGNMENT - 1)) != 0)
        {
            return "descriptor ring not 16-byte aligned: 0x" + Long.toHexString(descRing);
        }
        if ((driverEvent & (EVENT_ALIGNMENT - 1)) != 0)
        {
            return "driver event suppression area not 4-byte aligned: 0x" + Long.toHexString(driverEvent);
        }
        if ((deviceEvent & (EVENT_ALIGNMENT - 1)) != 0)
        {
            return "device event suppression area not 4-byte aligned: 0x" + Long.toHexString(deviceEvent);
        }
        final long ringLength = PackedRingDescriptor.descriptorRingLength(size);
        if (!memory.isValidRange(descRing, ringLength))
        {
            return "descriptor ring outside guest memory: 0x" + Long.toHexString(descRing) + " length " + ringLength;
        }
        if (countRingPieces(memory, descRing, size) < 0)
        {
            return "a descriptor straddles a guest memory region boundary: ring at 0x" + Long.toHexString(descRing);
        }
        // Event structures are read and written as one 32-bit access, so each must sit in one region.
        if (memory.regionIndex(driverEvent, EVENT_STRUCTURE_LENGTH) < 0)
        {
            return "driver event suppression area outside guest memory: 0x" + Long.toHexString(driverEvent);
        }
        if (memory.regionIndex(deviceEvent, EVENT_STRUCTURE_LENGTH) < 0)
        {
            return "device event suppression area outside guest memory: 0x" + Long.toHexString(deviceEvent);
        }
        return null;
    }

    /** Regions the ring crosses, or -1 when a region boundary cuts a descriptor in two. */
    private static int countRingPieces(final GuestMemory memory, final long descRing, final int size)
    {
        final long end = descRing + PackedRingDescriptor.descriptorRingLength(size);
        int pieces = 0;
        long gpa = descRing;
        while (gpa < end)
        {
            final int r = memory.regionIndex(gpa, DESCRIPTOR_LENGTH);
            if (r < 0)
            {
                return -1;
            }
            final long regionEnd = memory.region(r).guestPhysicalEnd();
            if (regionEnd < end && ((regionEnd - descRing) & (DESCRIPTOR_LENGTH - 1)) != 0)
            {
                return -1;
            }
            gpa = Math.min(end, regionEnd);
            pieces++;
        }
        return pieces;
    }

    public int size()
    {
        return size;
    }

    public boolean eventIdx()
    {
        return eventIdx;
    }

    public boolean indirect()
    {
        return indirect;
    }

    public long descriptorRingAddress()
    {
        return descRingGpa;
    }

    public long driverEventAddress()
    {
        return driverEventGpa;
    }

    public long deviceEventAddress()
    {
        return deviceEventGpa;
    }

    public int nextAvailIndex()
    {
        return nextAvail;
    }

    public boolean availWrapCounter()
    {
        return availWrap;
    }

    public int nextUsedIndex()
    {
        return nextUsed;
    }

    public boolean usedWrapCounter()
    {
        return usedWrap;
    }

    /** Completions for ids that were not in flight, dropped by {@link #addUsed}; a caller bug. */
    public long ignoredCompletions()
    {
        return ignoredCompletions;
    }

    // ---------------------------------------------------------------- available side

    public int pop(final DescriptorChain chain)
    {
        if (broken)
        {
            return ChainStatus.QUEUE_BROKEN;
        }
        int slot = nextAvail;
        boolean wrap = availWrap;
        Object base = slotBase(slot);
        long offset = slotAddress(slot);
        // Acquire: the driver writes the whole chain, then the head's flags with release; nothing of
        // the chain may be read before the head's flags say it is available. Later descriptors are
        // then read plainly (len, id and flags as one 8-byte word): the head's acquire covers them.
        int flags = getShortAcquire(base, offset + DESC_FLAGS_OFFSET);
        if ((flags & AVAIL_USED_MASK) != (wrap ? AVAILABLE_WRAP_1 : AVAILABLE_WRAP_0))
        {
            return ChainStatus.EMPTY;
        }

        chain.reset(0);
        int status = ChainStatus.POPPED;
        int count = 1;
        // lenIdFlags = le32 len | le16 id << 32 | le16 flags << 48; the head's flags are the acquired ones.
        long lenIdFlags = getLong(base, offset + DESC_LEN_OFFSET);
        while (true)
        {
            if (status == ChainStatus.POPPED)
            {
                final long addr = getLong(base, offset + DESC_ADDR_OFFSET);
                status = (flags & VIRTQ_DESC_F_INDIRECT) != 0 ?
                    addIndirect(chain, addr, lenIdFlags & 0xFFFF_FFFFL, flags, count) :
                    addSegment(chain, addr, (int)lenIdFlags, (flags & VIRTQ_DESC_F_WRITE) != 0);
            }
            if ((flags & VIRTQ_DESC_F_NEXT) == 0)
            {
                break;
            }
            if (count == size)
            {
                return breakQueue(ChainStatus.CHAIN_UNTERMINATED);
            }
            if (++slot == size)
            {
                slot = 0;
                wrap = !wrap;
            }
            base = slotBase(slot);
            offset = slotAddress(slot);
            lenIdFlags = getLong(base, offset + DESC_LEN_OFFSET);
            flags = (int)(lenIdFlags >>> 48);
            if ((flags & AVAIL_USED_MASK) != (wrap ? AVAILABLE_WRAP_1 : AVAILABLE_WRAP_0))
            {
                return breakQueue(ChainStatus.CHAIN_UNTERMINATED);
            }
            count++;
        }
        final int id = (int)(lenIdFlags >>> 32) & 0xFFFF;

        if (id >= size)
        {
            return breakQueue(ChainStatus.HEAD_OUT_OF_RANGE);
        }
        if (chainSlots[id] != 0)
        {
            return breakQueue(ChainStatus.BUFFER_ID_IN_USE);
        }
        if (++slot == size)
        {
            slot = 0;
            wrap = !wrap;
        }
        nextAvail = slot;
        availWrap = wrap;
        chainSlots[id] = count;
        inFlight++;
        chain.id(id);
        chain.descriptorCount(count);
        return status;
    }

    private int addSegment(final DescriptorChain chain, final long addr, final int len, final boolean writable)
    {
        if (len != 0 && !isGuestRange(addr, len & 0xFFFF_FFFFL))
        {
            return ChainStatus.ADDRESS_OUT_OF_MEMORY;
        }
        if (!chain.add(addr, len, writable))
        {
            return chain.wouldBreakOrder(writable) ? ChainStatus.READABLE_AFTER_WRITABLE : ChainStatus.TOO_MANY_SEGMENTS;
        }
        return ChainStatus.POPPED;
    }

    private boolean isGuestRange(final long addr, final long length)
    {
        return isInHotRegion(addr, length) || memory.isValidRange(addr, length);
    }

    private boolean isInHotRegion(final long addr, final long length)
    {
        // addr >= base keeps the subtraction non-negative, so the comparison cannot overflow.
        return addr >= hotRegionBase && addr - hotRegionBase <= hotRegionLength - length;
    }

    private int addIndirect(
        final DescriptorChain chain, final long tableGpa, final long tableLength, final int flags, final int position)
    {
        if (!indirect)
        {
            return ChainStatus.INDIRECT_NOT_NEGOTIATED;
        }
        // An indirect descriptor must be the whole list: neither followed by nor part of a NEXT chain.
        if ((flags & VIRTQ_DESC_F_NEXT) != 0 || position != 1)
        {
            return ChainStatus.INDIRECT_WITH_NEXT;
        }
        if (tableLength == 0 || (tableLength & (DESCRIPTOR_LENGTH - 1)) != 0)
        {
            return ChainStatus.INDIRECT_BAD_LENGTH;
        }
        final long entries = tableLength / DESCRIPTOR_LENGTH;
        if (entries > size)
        {
            return ChainStatus.CHAIN_TOO_LONG;
        }
        // The whole table is range-checked here once; then each entry is read directly from the
        // region that holds it (two 8-byte loads), without a per-entry look-up.
        final Object base;
        final long address;
        if (isInHotRegion(tableGpa, tableLength))
        {
            base = hotRegionObject;
            address = hotRegionAddress + (tableGpa - hotRegionBase);
        }
        else
        {
            final int region = memory.regionIndex(tableGpa, tableLength);
            if (region < 0)
            {
                return memory.isValidRange(tableGpa, tableLength) ?
                    addSpanningIndirect(chain, tableGpa, (int)entries) : ChainStatus.ADDRESS_OUT_OF_MEMORY;
            }
            base = memory.buffer(region).byteArray();
            address = memory.buffer(region).addressOffset() + memory.offset(region, tableGpa);
        }
        final long end = address + tableLength;
        for (long entry = address; entry < end; entry += DESCRIPTOR_LENGTH)
        {
            // lenIdFlags = le32 len | le16 id << 32 | le16 flags << 48
            final long lenIdFlags = getLong(base, entry + DESC_LEN_OFFSET);
            final int status = addTableEntry(
                chain, getLong(base, entry + DESC_ADDR_OFFSET), (int)lenIdFlags, (int)(lenIdFlags >>> 48));
            if (status != ChainStatus.POPPED)
            {
                return status;
            }
        }
        return ChainStatus.POPPED;
    }

    /** A table across adjacent regions (rare): read through the region-spanning accessors. */
    private int addSpanningIndirect(final DescriptorChain chain, final long tableGpa, final int entries)
    {
        long gpa = tableGpa;
        for (int i = 0; i < entries; i++, gpa += DESCRIPTOR_LENGTH)
        {
            final int status = addTableEntry(
                chain, memory.getLong(gpa + DESC_ADDR_OFFSET), memory.getInt(gpa + DESC_LEN_OFFSET),
                memory.getShort(gpa + DESC_FLAGS_OFFSET) & 0xFFFF);
            if (status != ChainStatus.POPPED)
            {
                return status;
            }
        }
        return ChainStatus.POPPED;
    }

    private int addTableEntry(final DescriptorChain chain, final long addr, final int len, final int entryFlags)
    {
        if ((entryFlags & VIRTQ_DESC_F_INDIRECT) != 0)
        {
            return ChainStatus.NESTED_INDIRECT;
        }
        // Only WRITE is meaningful inside a table; NEXT and the rest are reserved and ignored.
        return addSegment(chain, addr, len, (entryFlags & VIRTQ_DESC_F_WRITE) != 0);
    }

    private int breakQueue(final int reason)
    {
        broken = true;
        brokenReason = reason;
        return reason;
    }

    public boolean hasAvailable()
    {
        if (broken)
        {
            return false;
        }
        final int flags = getShortAcquire(slotBase(nextAvail), slotAddress(nextAvail) + DESC_FLAGS_OFFSET);
        return (flags & AVAIL_USED_MASK) == (availWrap ? AVAILABLE_WRAP_1 : AVAILABLE_WRAP_0);
    }

    // ---------------------------------------------------------------- used side

    public void addUsed(final int id, final int writtenLength)
    {
        if (id < 0 || id >= size || chainSlots[id] == 0)
        {
            ignoredCompletions++;
            return;
        }
        final int slots = chainSlots[id];
        chainSlots[id] = 0;
        inFlight--;

        final int slot = nextUsed;
        final Object base = slotBase(slot);
        final long offset = slotAddress(slot);
        // WRITE in a used descriptor tells the driver that len is meaningful (data was written).
        final int flags = (usedWrap ? USED_WRAP_1 : USED_WRAP_0) | (writtenLength != 0 ? VIRTQ_DESC_F_WRITE : 0);
        if (pendingCount == 0)
        {
            putInt(base, offset + DESC_LEN_OFFSET, writtenLength);
            putShort(base, offset + DESC_ID_OFFSET, (short)id);
            pendingFirstSlot = slot;
            pendingFirstFlags = (short)flags;
        }
        else
        {
            // len, id and flags in one plain store: the driver cannot look at this slot before the
            // batch's first flags, which publishUsed writes last with release.
            putLong(base, offset + DESC_LEN_OFFSET,
                (writtenLength & 0xFFFF_FFFFL) | (long)id << 32 | (long)flags << 48);
        }
        pendingCount++;
        pendingSlots += slots;

        int next = slot + slots;
        if (next >= size)
        {
            next -= size;
            usedWrap = !usedWrap;
        }
        nextUsed = next;
    }

    public void publishUsed()
    {
        if (pendingCount == 0)
        {
            return;
        }
        final int slot = pendingFirstSlot;
        // Release: every used descriptor of the batch (ids, lengths, later flags) and the data the
        // device wrote into the buffers become visible before the driver can see this flag.
        putShortRelease(slotBase(slot), slotAddress(slot) + DESC_FLAGS_OFFSET, pendingFirstFlags);
        // Capped: a window of a whole ring or more always interrupts, so the count need not grow further.
        publishedSinceEvent = Math.min(publishedSinceEvent + pendingSlots, size);
        publishedPosition = position(nextUsed, usedWrap);
        pendingCount = 0;
        pendingSlots = 0;
    }

    public boolean needsInterrupt()
    {
        final int published = publishedSinceEvent;
        if (published == 0)
        {
            return false;
        }
        final int windowStart = eventWindowStart;
        publishedSinceEvent = 0;
        eventWindowStart = publishedPosition;

        // Store-load fence: our used flags must be visible before we read the driver's event
        // structure, or the driver may enable events, recheck the ring (still unchanged to it) and
        // sleep while we read its old DISABLE: a lost interrupt.
        GuestMemory.fullFence();
        final int event = memory.getIntAcquire(driverEventGpa);
        final int flags = (event >>> EVENT_FLAGS_SHIFT) & 0x3;
        if (flags == RING_EVENT_FLAGS_DISABLE)
        {
            return false;
        }
        if (flags != RING_EVENT_FLAGS_DESC || !eventIdx)
        {
            // ENABLE, the reserved value 3, or DESC without EVENT_IDX: interrupt; spurious beats lost.
            return true;
        }
        if (published >= size)
        {
            return true;
        }
        final int offWrap = event & 0xFFFF;
        final int off = offWrap & 0x7FFF;
        if (off >= size)
        {
            return true;
        }
        // Positions count descriptors modulo two laps, so the wrap bit tells laps apart. The event
        // fires when the descriptor at off_wrap is among those published in this window.
        final int eventPosition = position(off, (offWrap & 0x8000) != 0);
        int distance = eventPosition - windowStart;
        if (distance < 0)
        {
            distance += 2 * size;
        }
        return distance < published;
    }

    /** Index plus lap: [0, size) while the wrap counter is 1, [size, 2 * size) while it is 0. */
    private int position(final int index, final boolean wrap)
    {
        return wrap ? index : index + size;
    }

    // ---------------------------------------------------------------- notifications

    public void disableNotifications()
    {
        if (notifyState != RING_EVENT_FLAGS_DISABLE)
        {
            notifyState = RING_EVENT_FLAGS_DISABLE;
            memory.putIntRelease(deviceEventGpa, RING_EVENT_FLAGS_DISABLE << EVENT_FLAGS_SHIFT);
        }
    }

    public boolean enableNotifications()
    {
        // One 32-bit store updates off_wrap and flags together, so the driver never reads DESC with
        // a stale offset.
        if (eventIdx)
        {
            notifyState = RING_EVENT_FLAGS_DESC;
            final int offWrap = nextAvail | (availWrap ? 0x8000 : 0);
            memory.putIntRelease(deviceEventGpa, (RING_EVENT_FLAGS_DESC << EVENT_FLAGS_SHIFT) | offWrap);
        }
        else if (notifyState != RING_EVENT_FLAGS_ENABLE)
        {
            notifyState = RING_EVENT_FLAGS_ENABLE;
            memory.putIntRelease(deviceEventGpa, RING_EVENT_FLAGS_ENABLE << EVENT_FLAGS_SHIFT);
        }
        // Store-load fence: the enable must be visible before we recheck the ring, or a descriptor
        // made available in between is seen by neither side (driver reads DISABLE, we read empty).
        GuestMemory.fullFence();
        return hasAvailable();
    }

    // ---------------------------------------------------------------- state

    public boolean isBroken()
    {
        return broken;
    }

    public int brokenReason()
    {
        return brokenReason;
    }

    public int inFlight()
    {
        return inFlight;
    }

    public void reset()
    {
        nextAvail = 0;
        availWrap = true;
        nextUsed = 0;
        usedWrap = true;
        inFlight = 0;
        broken = false;
        brokenReason = 0;
        pendingCount = 0;
        pendingSlots = 0;
        pendingFirstSlot = 0;
        pendingFirstFlags = 0;
        publishedPosition = 0;
        eventWindowStart = 0;
        publishedSinceEvent = 0;
        notifyState = NOTIFY_UNKNOWN;
        ignoredCompletions = 0;
        Arrays.fill(chainSlots, 0);
    }

    public String toString()
    {
        return "PackedQueue{size=" + size +
            ", nextAvail=" + nextAvail + (availWrap ? "/1" : "/0") +
            ", nextUsed=" + nextUsed + (usedWrap ? "/1" : "/0") +
            ", inFlight=" + inFlight +
            (broken ? ", broken=" + ChainStatus.describe(brokenReason) : "") + '}';
    }

    // ---------------------------------------------------------------- ring access

    private Object slotBase(final int slot)
    {
        return singlePiece ? ringBase0 : ringBases[piece(slot)];
    }

    /** Raw address of ring slot {@code slot}; with {@link #slotBase}, a 16-byte slot inside the checked ring. */
    private long slotAddress(final int slot)
    {
        return (singlePiece ? ringOffset0 : ringOffsets[piece(slot)]) + ((long)slot << 4);
    }

    private int piece(final int slot)
    {
        int p = lastRingPiece;
        while (slot < ringFirstSlots[p])
        {
            p--;
        }
        return p;
    }

    private static int getShortAcquire(final Object base, final long offset)
    {
        final short value = UnsafeApi.getShortAcquire(base, offset);
        return (NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value)) & 0xFFFF;
    }

    private static int getShort(final Object base, final long offset)
    {
        final short value = UnsafeApi.getShort(base, offset);
        return (NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value)) & 0xFFFF;
    }

    private static long getLong(final Object base, final long offset)
    {
        final long value = UnsafeApi.getLong(base, offset);
        return NATIVE_LITTLE_ENDIAN ? value : Long.reverseBytes(value);
    }

    private static void putInt(final Object base, final long offset, final int value)
    {
        UnsafeApi.putInt(base, offset, NATIVE_LITTLE_ENDIAN ? value : Integer.reverseBytes(value));
    }

    private static void putLong(final Object base, final long offset, final long value)
    {
        UnsafeApi.putLong(base, offset, NATIVE_LITTLE_ENDIAN ? value : Long.reverseBytes(value));
    }

    private static void putShort(final Object base, final long offset, final short value)
    {
        UnsafeApi.putShort(base, offset, NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value));
    }

    private static void putShortRelease(final Object base, final long offset, final short value)
    {
        UnsafeApi.putShortRelease(base, offset, NATIVE_LITTLE_ENDIAN ? value : Short.reverseBytes(value));
    }
}
