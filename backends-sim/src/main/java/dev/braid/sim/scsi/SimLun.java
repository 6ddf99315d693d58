package dev.braid.sim.scsi;

import dev.braid.sim.SharedBlockStore;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.scsi.emulator.ScsiContext;
import dev.braid.virtio.scsi.emulator.ScsiDiskEmulator;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A simulated LUN: the shared {@link ScsiDiskEmulator} over a {@link SharedBlockStore}, its medium
 * operations run at once. Writes and unmaps tag their sectors with a version from the shared
 * counter, so tests can tell which write a read returned. Shared by every path (card) of a device.
 */
public final class SimLun
{
    private final SharedBlockStore store;
    private final AtomicLong versions;
    private final ScsiDiskEmulator emulator;

    public SimLun(final SharedBlockStore store, final AtomicLong versions, final String serial, final long deviceId)
    {
        this.store = store;
        this.versions = versions;
        this.emulator = new ScsiDiskEmulator(store.sectors(), serial, deviceId);
    }

    public SharedBlockStore store()
    {
        return store;
    }

    public ScsiDiskEmulator emulator()
    {
        return emulator;
    }

    public long capacityBlocks()
    {
        return emulator.capacityBlocks();
    }

    public long naa()
    {
        return emulator.naa();
    }

    /** Runs the medium operation {@code context} holds after {@link ScsiDiskEmulator#MEDIUM}; returns the packed result. */
    int runMedium(final ScsiIo io, final ScsiContext context)
    {
        final long lba = context.mediumLba();
        final long bytes = context.mediumBytes();
        switch (context.mediumOperation())
        {
            case BlockIo.READ:
                store.read(lba, io.dataIn(), bytes);
                break;
            case BlockIo.WRITE:
                store.write(lba, io.dataOut(), bytes, versions.incrementAndGet());
                break;
            case BlockIo.DISCARD:
                final long version = versions.incrementAndGet();
                for (int i = 0; i < context.unmapCount(); i++)
                {
                    final long count = context.unmapBlocks(i);
                    if (count > 0)
                    {
                        store.zero(context.unmapLba(i), count, version);
                    }
                }
                break;
            default:
                // FLUSH: the store is write-through, every completed write is already durable.
                break;
        }
        return ScsiDiskEmulator.completeMedium(io, context, CardStatus.OK);
    }
}
