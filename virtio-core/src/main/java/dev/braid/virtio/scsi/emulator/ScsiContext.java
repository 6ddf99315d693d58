package dev.braid.virtio.scsi.emulator;

/**
 * Per-caller scratch and outputs for {@link ScsiDiskEmulator#execute}: emulators are shared by all
 * paths (cards) of a device, so each card queue (or each in-flight slot, where commands wait on a
 * medium) brings its own context and nothing is allocated per command. Not thread-safe.
 *
 * <p>After {@link ScsiDiskEmulator#MEDIUM}, the context names the medium operation: a
 * {@link dev.braid.virtio.card.BlockIo} code, its first block and block count (READ and WRITE move
 * {@link #mediumBytes()} through the request's data vector, fewer than the blocks named when a
 * data-in buffer is short; FLUSH covers the range; DISCARD means the {@link #unmapCount()}
 * descriptors, {@code mediumBlocks} their total).
 */
public final class ScsiContext
{
    /** Enough for every parameter page the emulator builds and for a maximal UNMAP list. */
    public static final int SCRATCH_SIZE = 8 + ScsiDiskEmulator.MAX_UNMAP_DESCRIPTORS * 16;

    final byte[] scratch = new byte[SCRATCH_SIZE];
    int transferred;
    int senseLength;
    int mediumOperation = -1;
    long mediumLba;
    long mediumBlocks;
    long mediumBytes;
    boolean mediumShort;
    int unmapCount;
    int unmapParameterBytes;

    /** Bytes moved to or from guest memory by the last command. */
    public int transferred()
    {
        return transferred;
    }

    /** Sense bytes written by the last command (0 when none). */
    public int senseLength()
    {
        return senseLength;
    }

    /** The medium operation of the last {@link ScsiDiskEmulator#MEDIUM} answer (a BlockIo code), else -1. */
    public int mediumOperation()
    {
        return mediumOperation;
    }

    public long mediumLba()
    {
        return mediumLba;
    }

    public long mediumBlocks()
    {
        return mediumBlocks;
    }

    /** Bytes a READ or WRITE moves: the blocks named, or for a short data-in buffer what fits. */
    public long mediumBytes()
    {
        return mediumBytes;
    }

    /**
     * Cuts a short READ to whole blocks, for a medium that moves nothing finer (a block card); the
     * command still ends in OVERRUN. Returns the bytes left, which may be 0.
     */
    public long trimToBlocks()
    {
        mediumBytes = mediumBytes / ScsiDiskEmulator.BLOCK_SIZE * ScsiDiskEmulator.BLOCK_SIZE;
        return mediumBytes;
    }

    /** UNMAP descriptors of the last DISCARD, validated. */
    public int unmapCount()
    {
        return unmapCount;
    }

    public long unmapLba(final int descriptor)
    {
        return ScsiDiskEmulator.u64(scratch, 8 + descriptor * 16);
    }

    public long unmapBlocks(final int descriptor)
    {
        return ScsiDiskEmulator.u32(scratch, 8 + descriptor * 16 + 8);
    }
}
