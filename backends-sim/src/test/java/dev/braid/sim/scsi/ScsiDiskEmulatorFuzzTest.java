package dev.braid.sim.scsi;

import dev.braid.virtio.scsi.emulator.ScsiSense;
import dev.braid.virtio.scsi.emulator.VirtioScsiResponse;
import dev.braid.virtio.scsi.emulator.ScsiContext;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.sim.SharedBlockStore;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.memory.GuestMemory;

import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.virtio.scsi.emulator.ScsiConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Arbitrary CDBs and data-out bytes against a target of two emulated LUNs: nothing throws, sense is
 * well formed, and no byte of guest memory outside the data-in buffer changes.
 *
 * <p>Input layout: [0] LUN selector, [1] CDB length (mod 33), [2..3] data-in length (mod 8193),
 * [4] where data-in splits into two segments, [5..37) CDB, then data-out bytes.
 */
class ScsiDiskEmulatorFuzzTest
{
    static final int HEADER = 37;
    static final int MEMORY = 1 << 16;
    static final long OUT = 0x1000;
    static final long IN = 0x6000;
    static final byte GUARD = (byte)0xA5;

    static final GuestMemory memory = GuestMemory.allocate(MEMORY);
    static final AtomicLong versions = new AtomicLong();
    static final SimTarget target = new SimTarget(
        new SimLun(new SharedBlockStore(64), versions, "FUZZ0", 1),
        new SimLun(new SharedBlockStore(8), versions, "FUZZ1", 2));
    static final ScsiContext context = new ScsiContext();
    static final ScsiIo io = new ScsiIo(2);
    static final byte[] before = new byte[MEMORY];
    static final byte[] after = new byte[MEMORY];

    @FuzzTest(maxDuration = "20s")
    void executeArbitraryCdb(final byte[] input)
    {
        final int lun = input.length > 0 ? new int[] {0, 1, 7, 0}[input[0] & 3] : 0;
        final int cdbLength = input.length > 1 ? (input[1] & 0xFF) % (ScsiIo.MAX_CDB + 1) : 0;
        final int dataInLength = input.length > 3 ? ((input[2] & 0xFF) << 8 | input[3] & 0xFF) % 8193 : 0;
        final int split = input.length > 4 ? Math.min(dataInLength, (input[4] & 0xFF) * 32) : dataInLength;
        final int dataOutLength = Math.max(0, Math.min(input.length - HEADER, (int)(IN - OUT)));

        memory.setMemory(0, MEMORY, GUARD);
        final byte[] cdb = io.cdb();
        java.util.Arrays.fill(cdb, (byte)0);
        System.arraycopy(input, Math.min(5, input.length), cdb, 0, Math.max(0, Math.min(ScsiIo.MAX_CDB, input.length - 5)));
        io.set(0, lun, 1, cdbLength);
        io.dataOut().reset(memory);
        io.dataIn().reset(memory);
        if (dataOutLength > 0)
        {
            memory.putBytes(OUT, input, HEADER, dataOutLength);
            io.dataOut().add(OUT, dataOutLength);
        }
        if (split > 0)
        {
            io.dataIn().add(IN, split);
        }
        if (dataInLength > split)
        {
            io.dataIn().add(IN + split, dataInLength - split);
        }
        memory.getBytes(0, before, 0, MEMORY);

        final int packed = target.execute(io, context);

        final int status = ScsiIo.scsiStatus(packed);
        final int response = ScsiIo.response(packed);
        final int senseLength = ScsiIo.senseLength(packed);
        assertTrue(response == VirtioScsiResponse.OK || response == VirtioScsiResponse.OVERRUN, "response " + response);
        if (status == STATUS_CHECK_CONDITION)
        {
            assertEquals(ScsiSense.LENGTH, senseLength);
            assertEquals(senseLength, context.senseLength());
            final byte[] sense = io.sense();
            assertEquals(0x70, sense[0] & 0xFF);
            assertEquals(ScsiSense.LENGTH - 8, sense[7]);
            assertEquals(KEY_ILLEGAL_REQUEST, ScsiSense.senseKey(sense));
            assertTrue(ScsiSense.asc(sense) != 0, "an error names its cause");
            assertEquals(0, context.transferred());
            assertEquals(VirtioScsiResponse.OK, response);
        }
        else
        {
            assertEquals(STATUS_GOOD, status);
            assertEquals(0, senseLength);
            assertTrue(context.transferred() >= 0);
            assertTrue(context.transferred() <= Math.max(dataInLength, dataOutLength), "moved " + context.transferred());
        }

        // Only the data-in buffer may change.
        memory.getBytes(0, after, 0, MEMORY);
        for (int i = 0; i < MEMORY; i++)
        {
            if (i >= IN && i < IN + dataInLength)
            {
                continue;
            }
            if (before[i] != after[i])
            {
                fail("guest byte 0x" + Integer.toHexString(i) + " changed outside the data-in buffer");
            }
        }
    }
}
