package dev.braid.sim.scsi;

/**
 * Per-caller scratch and outputs for {@link ScsiDiskEmulator#execute}: emulators are shared by all
 * paths (cards) of a device, so each card queue brings its own context and nothing is allocated per
 * command. Not thread-safe: one per queue thread.
 */
public final class ScsiContext
{
    /** Enough for every parameter page the emulator builds and for a maximal UNMAP list. */
    public static final int SCRATCH_SIZE = 8 + ScsiDiskEmulator.MAX_UNMAP_DESCRIPTORS * 16;

    final byte[] scratch = new byte[SCRATCH_SIZE];
    int transferred;
    int senseLength;

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
}
