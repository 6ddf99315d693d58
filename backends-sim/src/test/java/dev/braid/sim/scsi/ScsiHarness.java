package dev.braid.sim.scsi;

import dev.braid.virtio.scsi.emulator.ScsiSense;
import dev.braid.virtio.scsi.emulator.ScsiContext;
import dev.braid.sim.SharedBlockStore;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.memory.GuestMemory;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/** Runs CDBs against a target with real guest-memory buffers and returns what came back. */
final class ScsiHarness
{
    static final long SECTORS = 4096;
    static final long DATA_OUT = 0x10000;
    static final long DATA_IN = 0x40000;

    final GuestMemory memory = GuestMemory.allocate(1 << 20);
    final SharedBlockStore store = new SharedBlockStore(SECTORS);
    final AtomicLong versions = new AtomicLong();
    final SimLun lun0 = new SimLun(store, versions, "SIM0001", 0x12345);
    final SimLun lun1 = new SimLun(new SharedBlockStore(64), versions, "SIM0002", 0x12346);
    final SimTarget target = new SimTarget(lun0, lun1);
    final ScsiContext context = new ScsiContext();

    record Result(int packed, int transferred, byte[] data, byte[] sense)
    {
        int status()
        {
            return ScsiIo.scsiStatus(packed);
        }

        int response()
        {
            return ScsiIo.response(packed);
        }

        int senseKey()
        {
            return ScsiSense.senseKey(sense);
        }

        int asc()
        {
            return ScsiSense.asc(sense);
        }
    }

    static byte[] cdb(final int... bytes)
    {
        final byte[] cdb = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++)
        {
            cdb[i] = (byte)bytes[i];
        }
        return cdb;
    }

    ScsiIo io(final int lun, final byte[] cdb, final byte[] dataOut, final int dataInLength)
    {
        final ScsiIo io = new ScsiIo(4);
        System.arraycopy(cdb, 0, io.cdb(), 0, cdb.length);
        io.set(0, lun, 1, cdb.length);
        io.dataOut().reset(memory);
        io.dataIn().reset(memory);
        if (dataOut != null && dataOut.length > 0)
        {
            memory.putBytes(DATA_OUT, dataOut, 0, dataOut.length);
            // Two segments, to cross a segment boundary inside a block.
            final int first = Math.min(dataOut.length, 700);
            io.dataOut().add(DATA_OUT, first);
            if (dataOut.length > first)
            {
                io.dataOut().add(DATA_OUT + first, dataOut.length - first);
            }
        }
        if (dataInLength > 0)
        {
            memory.setMemory(DATA_IN, dataInLength, (byte)0xEE);
            final int first = Math.min(dataInLength, 300);
            io.dataIn().add(DATA_IN, first);
            if (dataInLength > first)
            {
                io.dataIn().add(DATA_IN + first, dataInLength - first);
            }
        }
        return io;
    }

    Result run(final int lun, final byte[] cdb, final byte[] dataOut, final int dataInLength)
    {
        final ScsiIo io = io(lun, cdb, dataOut, dataInLength);
        final int packed = target.execute(io, context);
        final byte[] data = new byte[context.transferred()];
        if (dataInLength > 0)
        {
            memory.getBytes(DATA_IN, data, 0, Math.min(data.length, dataInLength));
        }
        return new Result(packed, context.transferred(), data, Arrays.copyOf(io.sense(), ScsiIo.senseLength(packed)));
    }

    Result run(final byte[] cdb, final int dataInLength)
    {
        return run(0, cdb, null, dataInLength);
    }
}
