package dev.braid.virtio.device;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChainBytesTest
{
    private final TestChain t = TestChain.create();

    @Test
    void readsAcrossSegmentsAndLocates()
    {
        t.readableSplit(new byte[] {1, 2, 3, 4, 5, 6, 7}, 2, 3);
        final long w0 = t.writable(3);
        final long w1 = t.writable(2);

        final UnsafeBuffer dst = new UnsafeBuffer(new byte[5]);
        assertTrue(ChainBytes.copyReadable(t.memory, t.chain, 1, dst, 0, 5));
        assertArrayEquals(new byte[] {2, 3, 4, 5, 6}, dst.byteArray());
        assertFalse(ChainBytes.copyReadable(t.memory, t.chain, 3, dst, 0, 5), "past the readable bytes");

        assertEquals(ChainBytes.position(2, 1), ChainBytes.locateReadable(t.chain, 4));
        assertEquals(ChainBytes.NOT_FOUND, ChainBytes.locateReadable(t.chain, 7));
        assertEquals(ChainBytes.position(4, 0), ChainBytes.locateWritable(t.chain, 3));
        assertEquals(ChainBytes.NOT_FOUND, ChainBytes.locateWritable(t.chain, -1));

        assertTrue(ChainBytes.copyToWritable(t.memory, t.chain, 2, new UnsafeBuffer(new byte[] {9, 8}), 0, 2));
        assertEquals(9, t.memory.getByte(w0 + 2));
        assertEquals(8, t.memory.getByte(w1));
        assertEquals(w1 + 1, ChainBytes.lastWritableByte(t.memory, t.chain));
        assertTrue(ChainBytes.writableInMemory(t.memory, t.chain, 0, 5));
        assertFalse(ChainBytes.writableInMemory(t.memory, t.chain, 0, 6));
    }

    @Test
    void segmentsOutsideMemoryAreReportedNotThrown()
    {
        t.add(t.memory.totalLength() - 2, 4, false);
        t.add(Long.MAX_VALUE - 1, 8, true);
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[4]);
        assertFalse(ChainBytes.copyReadable(t.memory, t.chain, 0, dst, 0, 4));
        assertFalse(ChainBytes.readableInMemory(t.memory, t.chain, 0, 4));
        assertTrue(ChainBytes.readableInMemory(t.memory, t.chain, 0, 2));
        assertEquals(-1, ChainBytes.lastWritableByte(t.memory, t.chain));
        assertFalse(ChainBytes.copyToWritable(t.memory, t.chain, 0, dst, 0, 1));
    }
}
