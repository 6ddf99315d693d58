package dev.braid.virtio.device;

import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * Turns fuzz bytes into a chain over a small two-region guest memory, for the parser fuzz tests.
 * Format: byte 0 = options for the parser under test; byte 1 = segment count (mod 9); then per
 * segment 5 bytes: le16 address, le16 length, flags (bit 0 = writable); the rest is the memory
 * image from guest-physical 0. Addresses and lengths are not validated, so a segment may lie
 * partly or wholly outside guest memory: parsers must cope.
 */
public final class FuzzChain
{
    /** Two adjacent regions, so that a header may also span a region boundary. */
    public static final int REGION = 4096;
    public static final int SEGMENT_BYTES = 5;

    public final GuestMemory memory = GuestMemory.builder().addAnonymous(0, REGION).addAnonymous(REGION, REGION).build();
    public final DescriptorChain chain = new DescriptorChain(8);
    public int options;

    /** Loads {@code data}; returns false when it is too short to describe anything. */
    public boolean load(final byte[] data)
    {
        memory.setMemory(0, 2 * REGION, (byte)0);
        chain.reset(7);
        if (data.length < 2)
        {
            return false;
        }
        options = data[0] & 0xFF;
        final int count = (data[1] & 0xFF) % 9;
        int p = 2;
        for (int i = 0; i < count && p + SEGMENT_BYTES <= data.length; i++, p += SEGMENT_BYTES)
        {
            final long address = (data[p] & 0xFF) | (data[p + 1] & 0xFF) << 8;
            final int length = (data[p + 2] & 0xFF) | (data[p + 3] & 0xFF) << 8;
            chain.add(address, length, (data[p + 4] & 1) != 0);
        }
        final int image = Math.min(data.length - p, 2 * REGION);
        if (image > 0)
        {
            memory.putBytes(0, data, p, image);
        }
        return true;
    }

    /** Encodes a fuzz input (for seed generation). Segments as {address, length, writable} triples. */
    public static byte[] encode(final int options, final int[][] segments, final byte[] image)
    {
        final byte[] data = new byte[2 + segments.length * SEGMENT_BYTES + image.length];
        data[0] = (byte)options;
        data[1] = (byte)segments.length;
        int p = 2;
        for (final int[] s : segments)
        {
            data[p] = (byte)s[0];
            data[p + 1] = (byte)(s[0] >>> 8);
            data[p + 2] = (byte)s[1];
            data[p + 3] = (byte)(s[1] >>> 8);
            data[p + 4] = (byte)s[2];
            p += SEGMENT_BYTES;
        }
        System.arraycopy(image, 0, data, p, image.length);
        return data;
    }
}
