package dev.braid.virtio.device;

import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds descriptor chains over guest memory for parser tests: each segment is placed at its own
 * address (with a gap, so nothing is accidentally contiguous) and the bytes are written there.
 */
public final class TestChain
{
    public static final byte FILL = (byte)0xEE;

    public final GuestMemory memory;
    public final DescriptorChain chain;
    private final long base;
    private long next;

    public TestChain(final GuestMemory memory, final long base)
    {
        this.memory = memory;
        this.chain = new DescriptorChain(64);
        this.base = base;
        start(0);
    }

    public static TestChain create()
    {
        return new TestChain(GuestMemory.allocate(1 << 20), 0x1000);
    }

    public TestChain start(final int id)
    {
        chain.reset(id);
        next = base;
        return this;
    }

    private long allocate(final int length)
    {
        final long gpa = next;
        next += (length + 64 + 15) & ~15L;
        return gpa;
    }

    /** One readable segment holding {@code bytes}; returns its address. */
    public long readable(final byte[] bytes)
    {
        final long gpa = allocate(bytes.length);
        memory.putBytes(gpa, bytes, 0, bytes.length);
        add(gpa, bytes.length, false);
        return gpa;
    }

    /** {@code bytes} split into readable segments at the given cut points. */
    public TestChain readableSplit(final byte[] bytes, final int... cuts)
    {
        int from = 0;
        for (final int cut : cuts)
        {
            final byte[] part = new byte[cut - from];
            System.arraycopy(bytes, from, part, 0, part.length);
            readable(part);
            from = cut;
        }
        final byte[] rest = new byte[bytes.length - from];
        System.arraycopy(bytes, from, rest, 0, rest.length);
        readable(rest);
        return this;
    }

    /** One writable segment of {@code length} bytes, filled with {@link #FILL}; returns its address. */
    public long writable(final int length)
    {
        final long gpa = allocate(length);
        memory.setMemory(gpa, length, FILL);
        add(gpa, length, true);
        return gpa;
    }

    public TestChain add(final long gpa, final int length, final boolean writable)
    {
        if (!chain.add(gpa, length, writable))
        {
            throw new IllegalStateException("chain refused segment");
        }
        return this;
    }

    public static ByteBuffer le(final int length)
    {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Asserts that a reported range lies inside the chain, in segments of one direction. */
    public static boolean rangeInside(
        final DescriptorChain chain, final int segment, final int offset, final long length, final boolean writable)
    {
        if (length == 0)
        {
            return true;
        }
        if (segment < 0 || segment >= chain.segmentCount() || chain.isWritable(segment) != writable)
        {
            return false;
        }
        final long first = (chain.length(segment) & 0xFFFF_FFFFL) - offset;
        if (offset < 0 || first <= 0)
        {
            return false;
        }
        long remaining = length - first;
        int s = segment + 1;
        while (remaining > 0)
        {
            if (s >= chain.segmentCount() || chain.isWritable(s) != writable)
            {
                return false;
            }
            remaining -= chain.length(s) & 0xFFFF_FFFFL;
            s++;
        }
        return true;
    }
}
