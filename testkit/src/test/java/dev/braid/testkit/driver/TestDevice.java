package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;

/**
 * A minimal, trusting device for the driver model's own tests: it pops well-formed chains and
 * writes used entries, so that the driver can be exercised end to end. It is written here, apart
 * from Braid's device-side queues, and does no validation beyond what the tests assert.
 */
abstract class TestDevice
{
    final GuestMemory memory;
    final RingLayout layout;
    final int size;
    /** Per id, as popped: segments, first segment's address, writable bytes, ring slots held. */
    final int[] segments;
    final long[] firstGpa;
    final long[] writable;
    final int[] slots;
    /** Ids popped and not completed, in pop order. */
    final int[] popped;
    int poppedCount;

    TestDevice(final GuestMemory memory, final RingLayout layout)
    {
        this.memory = memory;
        this.layout = layout;
        this.size = layout.queueSize();
        segments = new int[size];
        firstGpa = new long[size];
        writable = new long[size];
        slots = new int[size];
        popped = new int[size];
    }

    static TestDevice of(final DriverQueue queue)
    {
        return queue instanceof SplitDriverQueue ?
            new Split(queue.memory(), queue.layout(), ((SplitDriverQueue)queue).startIndex()) :
            new Packed(queue.memory(), queue.layout());
    }

    /** Pops every available chain; returns how many. */
    abstract int popAll();

    /** Completes the popped chain at {@code index} of {@link #popped} with {@code len}. */
    abstract void complete(int index, int len);

    // The chain being walked: its segments, first buffer and writable bytes.
    private int segs;
    private long first;
    private long writableBytes;

    void startChain()
    {
        segs = 0;
        first = -1;
        writableBytes = 0;
    }

    /** Adds the buffer of the descriptor at {@code desc} (address at 0, length at 8); WRITE is flag bit 2. */
    void addSegment(final long desc, final int flags)
    {
        if (first < 0)
        {
            first = memory.getLong(desc);
        }
        segs++;
        if ((flags & 2) != 0)
        {
            writableBytes += memory.getInt(desc + 8) & 0xFFFF_FFFFL;
        }
    }

    void remember(final int id, final int slotCount)
    {
        segments[id] = segs;
        firstGpa[id] = first;
        writable[id] = writableBytes;
        slots[id] = slotCount;
        popped[poppedCount++] = id;
    }

    int removePopped(final int index)
    {
        final int id = popped[index];
        popped[index] = popped[--poppedCount];
        return id;
    }

    static final class Split extends TestDevice
    {
        private int lastAvail;
        private int usedIdx;

        Split(final GuestMemory memory, final RingLayout layout, final int start)
        {
            super(memory, layout);
            lastAvail = start;
            usedIdx = start;
        }

        int popAll()
        {
            final int availIdx = memory.getShortAcquire(layout.availGpa() + 2) & 0xFFFF;
            int count = 0;
            while (lastAvail != availIdx)
            {
                final int head = memory.getShort(layout.availGpa() + 4 + 2L * (lastAvail & (size - 1))) & 0xFFFF;
                lastAvail = (lastAvail + 1) & 0xFFFF;
                long table = layout.descGpa();
                int d = head;
                startChain();
                while (true)
                {
                    final long desc = table + 16L * d;
                    final int flags = memory.getShort(desc + 12);
                    if ((flags & 4) != 0)
                    {
                        table = memory.getLong(desc);
                        d = 0;
                        continue;
                    }
                    addSegment(desc, flags);
                    if ((flags & 1) == 0)
                    {
                        break;
                    }
                    d = memory.getShort(desc + 14) & 0xFFFF;
                }
                remember(head, 0);
                count++;
            }
            return count;
        }

        void complete(final int index, final int len)
        {
            final int id = removePopped(index);
            final long element = layout.usedGpa() + 4 + 8L * (usedIdx & (size - 1));
            memory.putInt(element, id);
            memory.putInt(element + 4, len);
            usedIdx = (usedIdx + 1) & 0xFFFF;
            memory.putShortRelease(layout.usedGpa() + 2, (short)usedIdx);
        }
    }

    static final class Packed extends TestDevice
    {
        private int availPos;
        private int availWrap = 1;
        private int usedPos;
        private int usedWrap = 1;

        Packed(final GuestMemory memory, final RingLayout layout)
        {
            super(memory, layout);
        }

        int popAll()
        {
            int count = 0;
            while (true)
            {
                final long head = layout.descGpa() + 16L * availPos;
                final int headFlags = memory.getShortAcquire(head + 14) & 0xFFFF;
                final int a = (headFlags >> 7) & 1;
                final int u = (headFlags >> 15) & 1;
                if (a != availWrap || u == availWrap)
                {
                    return count;
                }
                int slotCount = 0;
                startChain();
                int id;
                while (true)
                {
                    final long desc = layout.descGpa() + 16L * availPos;
                    final int flags = memory.getShort(desc + 14) & 0xFFFF;
                    id = memory.getShort(desc + 12) & 0xFFFF;
                    slotCount++;
                    if (++availPos == size)
                    {
                        availPos = 0;
                        availWrap ^= 1;
                    }
                    if ((flags & 4) != 0)
                    {
                        final long table = memory.getLong(desc);
                        final int n = memory.getInt(desc + 8) / 16;
                        for (int i = 0; i < n; i++)
                        {
                            final long entry = table + 16L * i;
                            addSegment(entry, memory.getShort(entry + 14));
                        }
                    }
                    else
                    {
                        addSegment(desc, flags);
                    }
                    if ((flags & 1) == 0)
                    {
                        break;
                    }
                }
                remember(id, slotCount);
                count++;
            }
        }

        void complete(final int index, final int len)
        {
            final int id = removePopped(index);
            final long desc = layout.descGpa() + 16L * usedPos;
            memory.putShort(desc + 12, (short)id);
            memory.putInt(desc + 8, len);
            memory.putShortRelease(desc + 14, (short)((usedWrap == 1 ? 0x8080 : 0) | (len != 0 ? 2 : 0)));
            usedPos += slots[id];
            if (usedPos >= size)
            {
                usedPos -= size;
                usedWrap ^= 1;
            }
        }
    }
}
