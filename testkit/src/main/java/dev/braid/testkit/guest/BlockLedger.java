package dev.braid.testkit.guest;

import dev.braid.virtio.memory.GuestMemory;

/**
 * What a checking guest knows about the 512-byte blocks of the disk range it owns: which blocks have
 * I/O in flight, and which write last completed to each.
 *
 * <p>A block is claimed before a request is posted and released when it completes, so a read never
 * overlaps a write, nor a write another write, on one block; the content a read must return is then
 * exact. Written data is self-describing: every 16-byte word pair of a block holds its absolute
 * block number and the id of the write (little-endian). Block positions passed in are relative to
 * the owned range; the absolute number is {@code firstBlock} plus that. Allocation-free once built.
 */
final class BlockLedger
{
    static final int BLOCK = 512;

    /** Last completed write id: 0 never written (reads zeroes), -1 undefined after a failed write. */
    private static final long UNDEFINED = -1;
    private static final byte FREE = 0;
    private static final byte WRITING = 1;

    private final GuestMemory memory;
    private final long firstBlock;
    private final long[] lastCompleted;
    private final byte[] busy;          // 1: a write in flight; >= 2: reads in flight (count + 1)
    private final byte[] blockBytes = new byte[BLOCK];

    BlockLedger(final GuestMemory memory, final long firstBlock, final int blockCount)
    {
        this.memory = memory;
        this.firstBlock = firstBlock;
        this.lastCompleted = new long[blockCount];
        this.busy = new byte[blockCount];
    }

    /**
     * Claims {@code blocks} blocks from {@code block} for one request, or claims none and returns
     * false if that would overlap a write with anything else (or overflow the reader count).
     */
    boolean claim(final long block, final int blocks, final boolean write)
    {
        for (int b = 0; b < blocks; b++)
        {
            final int state = busy[(int)block + b];
            if (state == WRITING || (write && state != FREE) || state == Byte.MAX_VALUE)
            {
                return false;
            }
        }
        for (int b = 0; b < blocks; b++)
        {
            final int i = (int)block + b;
            busy[i] = write ? WRITING : (byte)(busy[i] == FREE ? 2 : busy[i] + 1);
        }
        return true;
    }

    /** Releases what {@link #claim} took for a request that completed or was never posted. */
    void release(final long block, final int blocks, final boolean write)
    {
        for (int b = 0; b < blocks; b++)
        {
            final int i = (int)block + b;
            busy[i] = write || busy[i] == 2 ? FREE : (byte)(busy[i] - 1);
        }
    }

    /** Fills the data buffer at {@code gpa} for a write of {@code writeId} to the given blocks. */
    void fill(final long gpa, final long block, final int blocks, final long writeId)
    {
        for (int b = 0; b < blocks; b++)
        {
            final long blockGpa = gpa + (long)b * BLOCK;
            final long number = firstBlock + block + b;
            for (int w = 0; w < BLOCK / 8; w += 2)
            {
                memory.putLong(blockGpa + w * 8L, number);
                memory.putLong(blockGpa + w * 8L + 8, writeId);
            }
        }
    }

    /** Records a completed write: its id when it succeeded, else the blocks become undefined. */
    void completeWrite(final long block, final int blocks, final long writeId, final boolean succeeded)
    {
        final long value = succeeded ? writeId : UNDEFINED;
        for (int b = 0; b < blocks; b++)
        {
            lastCompleted[(int)block + b] = value;
        }
    }

    /** Whether the data read into {@code gpa} holds, in each block, the last write completed to it. */
    boolean verify(final long gpa, final long block, final int blocks)
    {
        for (int b = 0; b < blocks; b++)
        {
            if (!checkBlock(gpa + (long)b * BLOCK, firstBlock + block + b, lastCompleted[(int)block + b]))
            {
                return false;
            }
        }
        return true;
    }

    private boolean checkBlock(final long gpa, final long number, final long expectedWriteId)
    {
        if (expectedWriteId < 0)
        {
            return true;
        }
        memory.getBytes(gpa, blockBytes, 0, BLOCK);
        for (int w = 0; w < BLOCK / 8; w += 2)
        {
            final long n = getLongLittleEndian(blockBytes, w * 8);
            final long id = getLongLittleEndian(blockBytes, w * 8 + 8);
            if (expectedWriteId == 0 ? (n != 0 || id != 0) : (n != number || id != expectedWriteId))
            {
                return false;
            }
        }
        return true;
    }

    private static long getLongLittleEndian(final byte[] bytes, final int offset)
    {
        long value = 0;
        for (int i = 7; i >= 0; i--)
        {
            value = value << 8 | (bytes[offset + i] & 0xFF);
        }
        return value;
    }
}
