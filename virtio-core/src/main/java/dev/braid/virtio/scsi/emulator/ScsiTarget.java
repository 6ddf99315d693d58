package dev.braid.virtio.scsi.emulator;

import dev.braid.virtio.card.ScsiIo;

import static dev.braid.virtio.scsi.emulator.ScsiConstants.*;

/**
 * A SCSI target: LUNs 0..n-1 over shared {@link ScsiDiskEmulator}s. Answers what belongs to the
 * target rather than to a logical unit: REPORT LUNS (from any LUN) and commands to a LUN that does
 * not exist (INQUIRY with peripheral qualifier 011b, REQUEST SENSE data and CHECK CONDITION with
 * LOGICAL UNIT NOT SUPPORTED, SPC-4 4.5.2 / 6.6.2).
 */
public final class ScsiTarget
{
    private final ScsiDiskEmulator[] luns;

    public ScsiTarget(final ScsiDiskEmulator... luns)
    {
        if (luns.length == 0)
        {
            throw new IllegalArgumentException("a target needs at least one LUN");
        }
        this.luns = luns.clone();
    }

    public int lunCount()
    {
        return luns.length;
    }

    public boolean hasLun(final int lun)
    {
        return lun >= 0 && lun < luns.length;
    }

    public ScsiDiskEmulator lun(final int lun)
    {
        return luns[lun];
    }

    /** Executes {@code io} on LUN {@code io.lun()}; same contract as {@link ScsiDiskEmulator#execute}. */
    public int execute(final ScsiIo io, final ScsiContext context)
    {
        final int lun = io.lun();
        final int opcode = io.cdbLength() > 0 ? io.cdb()[0] & 0xFF : -1;
        if (opcode == REPORT_LUNS && io.cdbLength() >= 12)
        {
            context.transferred = 0;
            context.senseLength = 0;
            return ScsiDiskEmulator.reportLuns(io, context, luns.length);
        }
        if (hasLun(lun))
        {
            return luns[lun].execute(io, context);
        }
        context.transferred = 0;
        context.senseLength = 0;
        if (opcode == INQUIRY && io.cdbLength() >= 6)
        {
            return luns[0].inquiry(io, context, false);
        }
        if (opcode == REQUEST_SENSE && io.cdbLength() >= 6)
        {
            return luns[0].requestSense(io, context, KEY_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
        }
        return ScsiDiskEmulator.checkCondition(io, context, KEY_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
    }
}
