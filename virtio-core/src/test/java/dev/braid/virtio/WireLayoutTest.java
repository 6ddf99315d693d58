package dev.braid.virtio;

import dev.braid.virtio.memory.GuestMemory;

/** What the wire-format tests share: one page of guest memory and a way to read back raw bytes. */
public abstract class WireLayoutTest
{
    protected final GuestMemory memory = GuestMemory.allocate(4096);

    /** The {@code length} bytes at {@code gpa}, as the guest would see them. */
    protected final byte[] bytes(final long gpa, final int length)
    {
        final byte[] out = new byte[length];
        memory.getBytes(gpa, out, 0, length);
        return out;
    }
}
