package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;

import static dev.braid.testkit.driver.DriverQueue.NO_ROOM;
import static dev.braid.testkit.driver.DriverRingDescriptor.DESC_SIZE;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_INDIRECT;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_NEXT;
import static dev.braid.testkit.driver.DriverRingDescriptor.F_WRITE;

/**
 * Posts chains that break the virtio rules on purpose, one method per rule, so that tests can
 * check the device's answer. Each method writes the bad structure and publishes it (together with
 * anything else added and not yet published).
 *
 * <p>Chain-level violations return the id the device should complete (with a used length of 0):
 * they go through the driver's bookkeeping, so reaping that completion frees the descriptors.
 * Ring-level violations (split: head out of range, avail index jump; packed: buffer id out of
 * range, a chain that never ends) return the bad value written; the device should need a reset,
 * and the driver queue is then {@link DriverQueue#reset()}. Every method returns
 * {@link DriverQueue#NO_ROOM} when the queue lacks the descriptors, and throws
 * {@link UnsupportedOperationException} for a rule that does not exist on that ring kind.
 *
 * <p>Well-formed descriptors in these chains point into a caller-given scratch area of at least
 * 64 bytes.
 */
public final class MalformedChains
{
    /** An address whose 0x2000-byte buffer wraps past 2^64. */
    public static final long OVERFLOWING_ADDRESS = 0xFFFF_FFFF_FFFF_F000L;
    public static final int OVERFLOWING_LENGTH = 0x2000;
    /** Length of an indirect table that is not a multiple of 16. */
    public static final int BAD_INDIRECT_LENGTH = 20;

    private static final int ELEMENT = 16;

    private final DriverQueue queue;
    private final SplitDriverQueue split;
    private final PackedDriverQueue packed;
    private final long scratch;
    private final long outsideMemory;

    public MalformedChains(final DriverQueue queue, final long scratchGpa, final int scratchLength)
    {
        if (scratchLength < 4 * ELEMENT || !queue.memory().isValidRange(scratchGpa, scratchLength))
        {
            throw new IllegalArgumentException("scratch area must be at least 64 bytes of guest memory");
        }
        this.queue = queue;
        this.split = queue instanceof SplitDriverQueue ? (SplitDriverQueue)queue : null;
        this.packed = queue instanceof PackedDriverQueue ? (PackedDriverQueue)queue : null;
        if (split == null && packed == null)
        {
            throw new IllegalArgumentException("unknown queue kind: " + queue);
        }
        this.scratch = scratchGpa;
        final GuestMemory memory = queue.memory();
        this.outsideMemory = memory.region(memory.regionCount() - 1).guestPhysicalEnd();
    }

    /** First address past the last guest memory region: what {@link #bufferOutsideMemory} uses. */
    public long outsideMemoryAddress()
    {
        return outsideMemory;
    }

    // ---------------------------------------------------------------- split ring only

    /** Split: an available ring entry equal to the queue size. Ring error; returns the bad head. */
    public int headOutOfRange()
    {
        final SplitDriverQueue q = requireSplit();
        q.appendAvailEntry(q.size());
        q.publish();
        return q.size();
    }

    /** Split: a descriptor with NEXT whose next is the queue size. */
    public int nextOutOfRange()
    {
        final SplitDriverQueue q = requireSplit();
        if (q.numFree() < 1)
        {
            return NO_ROOM;
        }
        final int head = q.takeDescriptors(1);
        q.writeDescriptor(head, scratch, ELEMENT, F_NEXT, q.size());
        return finishSplit(head, 1, 0);
    }

    /** Split: two descriptors whose next fields point at each other. */
    public int loop()
    {
        final SplitDriverQueue q = requireSplit();
        if (q.numFree() < 2)
        {
            return NO_ROOM;
        }
        final int a = q.takeDescriptors(2);
        final int b = q.linkOf(a);
        q.writeDescriptor(a, scratch, ELEMENT, F_NEXT, b);
        q.writeDescriptor(b, scratch + ELEMENT, ELEMENT, F_NEXT, a);
        return finishSplit(a, 2, 0);
    }

    /**
     * Split: avail.idx moved by size + 1 past the last published value, with no entries written.
     * Ring error; returns the new avail.idx.
     */
    public int availIndexJump()
    {
        final SplitDriverQueue q = requireSplit();
        q.skipAvail(q.size() + 1);
        q.publish();
        return q.availIndex();
    }

    // ---------------------------------------------------------------- packed ring only

    /** Packed: a one-descriptor buffer whose id is the queue size. Ring error; returns the bad id. */
    public int bufferIdOutOfRange()
    {
        final PackedDriverQueue q = requirePacked();
        if (q.numFree() < 1)
        {
            return NO_ROOM;
        }
        q.beginRaw();
        q.putRaw(scratch, ELEMENT, q.size(), 0);
        q.endRaw(0, 0, 0);
        q.publish();
        return q.size();
    }

    /**
     * Packed: every slot of an empty ring made available with NEXT set, so the chain has no end
     * within the ring. All descriptors carry one valid buffer id, which is returned; a device may
     * treat it as a chain error (complete it, which frees the whole ring) or a ring error.
     */
    public int chainNeverEnds()
    {
        final PackedDriverQueue q = requirePacked();
        if (q.numFree() < q.size() || !q.hasFreeId())
        {
            return NO_ROOM;
        }
        final int id = q.takeId();
        q.beginRaw();
        for (int i = 0; i < q.size(); i++)
        {
            q.putRaw(scratch, ELEMENT, id, F_NEXT);
        }
        q.endRaw(id, q.size(), 0);
        q.publish();
        return id;
    }

    // ---------------------------------------------------------------- both ring kinds

    /** An INDIRECT descriptor whose table length is 0. */
    public int indirectLengthZero()
    {
        return indirectWithTableLength(0);
    }

    /** An INDIRECT descriptor whose table length (20) is not a multiple of 16. */
    public int indirectLengthNotMultipleOf16()
    {
        return indirectWithTableLength(BAD_INDIRECT_LENGTH);
    }

    /** An indirect table whose only entry is itself INDIRECT. */
    public int nestedIndirect()
    {
        requireIndirect(1);
        if (split != null)
        {
            if (split.numFree() < 1)
            {
                return NO_ROOM;
            }
            final int head = split.takeDescriptors(1);
            final long table = queue.layout().indirectTableGpa(head);
            split.writeTableEntry(table, 0, scratch, ELEMENT, F_INDIRECT, 0);
            split.writeDescriptor(head, table, DESC_SIZE, F_INDIRECT, 0);
            return finishSplit(head, 1, 0);
        }
        if (!packedRoom(1))
        {
            return NO_ROOM;
        }
        final int id = packed.takeId();
        final long table = queue.layout().indirectTableGpa(id);
        packed.writeTableEntry(table, 0, scratch, ELEMENT, F_INDIRECT);
        packed.beginRaw();
        packed.putRaw(table, DESC_SIZE, id, F_INDIRECT);
        return finishPacked(id, 1, 0);
    }

    /** An INDIRECT descriptor that also has NEXT, followed by a plain readable descriptor. */
    public int indirectWithNext()
    {
        requireIndirect(1);
        if (split != null)
        {
            if (split.numFree() < 2)
            {
                return NO_ROOM;
            }
            final int head = split.takeDescriptors(2);
            final int second = split.linkOf(head);
            final long table = queue.layout().indirectTableGpa(head);
            split.writeTableEntry(table, 0, scratch, ELEMENT, 0, 0);
            split.writeDescriptor(head, table, DESC_SIZE, F_INDIRECT | F_NEXT, second);
            split.writeDescriptor(second, scratch + ELEMENT, ELEMENT, 0, 0);
            return finishSplit(head, 2, 0);
        }
        if (!packedRoom(2))
        {
            return NO_ROOM;
        }
        final int id = packed.takeId();
        final long table = queue.layout().indirectTableGpa(id);
        packed.writeTableEntry(table, 0, scratch, ELEMENT, 0);
        packed.beginRaw();
        packed.putRaw(table, DESC_SIZE, id, F_INDIRECT | F_NEXT);
        packed.putRaw(scratch + ELEMENT, ELEMENT, id, 0);
        return finishPacked(id, 2, 0);
    }

    /** A writable element followed by a readable one, in the ring or in an indirect table. */
    public int readableAfterWritable(final boolean indirect)
    {
        return twoElements(indirect, scratch, ELEMENT, F_WRITE, scratch + ELEMENT, ELEMENT, 0, ELEMENT);
    }

    /** A readable element whose address plus length wraps past 2^64, after a good element. */
    public int addressOverflow(final boolean indirect)
    {
        return twoElements(indirect, scratch, ELEMENT, 0, OVERFLOWING_ADDRESS, OVERFLOWING_LENGTH, 0, 0);
    }

    /** A readable element just past the end of guest memory, after a good element. */
    public int bufferOutsideMemory(final boolean indirect)
    {
        return twoElements(indirect, scratch, ELEMENT, 0, outsideMemory, ELEMENT, 0, 0);
    }

    // ---------------------------------------------------------------- internals

    private int indirectWithTableLength(final int tableLength)
    {
        requireIndirect(2);
        if (split != null)
        {
            if (split.numFree() < 1)
            {
                return NO_ROOM;
            }
            final int head = split.takeDescriptors(1);
            final long table = queue.layout().indirectTableGpa(head);
            split.writeTableEntry(table, 0, scratch, ELEMENT, F_NEXT, 1);
            split.writeTableEntry(table, 1, scratch + ELEMENT, ELEMENT, 0, 0);
            split.writeDescriptor(head, table, tableLength, F_INDIRECT, 0);
            return finishSplit(head, 1, 0);
        }
        if (!packedRoom(1))
        {
            return NO_ROOM;
        }
        final int id = packed.takeId();
        final long table = queue.layout().indirectTableGpa(id);
        packed.writeTableEntry(table, 0, scratch, ELEMENT, 0);
        packed.writeTableEntry(table, 1, scratch + ELEMENT, ELEMENT, 0);
        packed.beginRaw();
        packed.putRaw(table, tableLength, id, F_INDIRECT);
        return finishPacked(id, 1, 0);
    }

    private int twoElements(
        final boolean indirect,
        final long addr0, final int len0, final int flags0,
        final long addr1, final int len1, final int flags1,
        final long writable)
    {
        if (indirect)
        {
            requireIndirect(2);
        }
        if (split != null)
        {
            final int needed = indirect ? 1 : 2;
            if (split.numFree() < needed)
            {
                return NO_ROOM;
            }
            final int head = split.takeDescriptors(needed);
            if (indirect)
            {
                final long table = queue.layout().indirectTableGpa(head);
                split.writeTableEntry(table, 0, addr0, len0, flags0 | F_NEXT, 1);
                split.writeTableEntry(table, 1, addr1, len1, flags1, 0);
                split.writeDescriptor(head, table, 2 * DESC_SIZE, F_INDIRECT, 0);
            }
            else
            {
                final int second = split.linkOf(head);
                split.writeDescriptor(head, addr0, len0, flags0 | F_NEXT, second);
                split.writeDescriptor(second, addr1, len1, flags1, 0);
            }
            return finishSplit(head, needed, writable);
        }
        final int needed = indirect ? 1 : 2;
        if (!packedRoom(needed))
        {
            return NO_ROOM;
        }
        final int id = packed.takeId();
        packed.beginRaw();
        if (indirect)
        {
            final long table = queue.layout().indirectTableGpa(id);
            packed.writeTableEntry(table, 0, addr0, len0, flags0);
            packed.writeTableEntry(table, 1, addr1, len1, flags1);
            packed.putRaw(table, 2 * DESC_SIZE, id, F_INDIRECT);
        }
        else
        {
            packed.putRaw(addr0, len0, id, flags0 | F_NEXT);
            packed.putRaw(addr1, len1, id, flags1);
        }
        return finishPacked(id, needed, writable);
    }

    private int finishSplit(final int head, final int descriptors, final long writable)
    {
        split.makeAvailable(head, descriptors, writable);
        split.publish();
        return head;
    }

    private int finishPacked(final int id, final int slots, final long writable)
    {
        packed.endRaw(id, slots, writable);
        packed.publish();
        return id;
    }

    private boolean packedRoom(final int slots)
    {
        return packed.numFree() >= slots && packed.hasFreeId();
    }

    private void requireIndirect(final int entries)
    {
        if (queue.layout().maxIndirect() < entries)
        {
            throw new IllegalStateException("the ring layout needs indirect tables of at least " + entries);
        }
    }

    private SplitDriverQueue requireSplit()
    {
        if (split == null)
        {
            throw new UnsupportedOperationException("split rings only");
        }
        return split;
    }

    private PackedDriverQueue requirePacked()
    {
        if (packed == null)
        {
            throw new UnsupportedOperationException("packed rings only");
        }
        return packed;
    }
}
