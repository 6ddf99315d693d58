package dev.braid.sim.scsi;

import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.scsi.emulator.ScsiContext;
import dev.braid.virtio.scsi.emulator.ScsiDiskEmulator;
import dev.braid.virtio.scsi.emulator.ScsiTarget;

/** A simulated target: the shared {@link ScsiTarget} rules over {@link SimLun}s whose medium runs at once. */
public final class SimTarget
{
    private final SimLun[] luns;
    private final ScsiTarget target;

    public SimTarget(final SimLun... luns)
    {
        this.luns = luns.clone();
        final ScsiDiskEmulator[] emulators = new ScsiDiskEmulator[luns.length];
        for (int i = 0; i < luns.length; i++)
        {
            emulators[i] = luns[i].emulator();
        }
        this.target = new ScsiTarget(emulators);
    }

    public int lunCount()
    {
        return luns.length;
    }

    public boolean hasLun(final int lun)
    {
        return target.hasLun(lun);
    }

    public SimLun lun(final int lun)
    {
        return luns[lun];
    }

    /** Executes {@code io} on its LUN to the end, medium included; same contract as {@link ScsiTarget#execute}. */
    public int execute(final ScsiIo io, final ScsiContext context)
    {
        final int result = target.execute(io, context);
        return result == ScsiDiskEmulator.MEDIUM ? luns[io.lun()].runMedium(io, context) : result;
    }
}
