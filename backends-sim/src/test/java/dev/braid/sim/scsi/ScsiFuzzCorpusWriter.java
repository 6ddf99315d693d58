package dev.braid.sim.scsi;

import dev.braid.virtio.scsi.emulator.ScsiDiskEmulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the committed seed corpus of {@link ScsiDiskEmulatorFuzzTest}: one meaningful input per
 * command family. Run with {@code -Dbraid.writeCorpus=true -Dtest=ScsiFuzzCorpusWriter} from the module.
 */
class ScsiFuzzCorpusWriter
{
    static final Path DIR = Path.of("src/test/resources/dev/braid/sim/scsi/ScsiDiskEmulatorFuzzTestInputs/executeArbitraryCdb");

    static byte[] seed(final int lun, final int cdbLength, final int dataIn, final int split, final int[] cdb, final byte[] dataOut)
    {
        final byte[] out = new byte[ScsiDiskEmulatorFuzzTest.HEADER + dataOut.length];
        out[0] = (byte)lun;
        out[1] = (byte)cdbLength;
        out[2] = (byte)(dataIn >>> 8);
        out[3] = (byte)dataIn;
        out[4] = (byte)split;
        for (int i = 0; i < cdb.length; i++)
        {
            out[5 + i] = (byte)cdb[i];
        }
        System.arraycopy(dataOut, 0, out, ScsiDiskEmulatorFuzzTest.HEADER, dataOut.length);
        return out;
    }

    static byte[] unmap(final int descriptors, final long lba, final long count)
    {
        final byte[] list = new byte[8 + 16 * descriptors];
        ScsiDiskEmulator.putU16(list, 0, list.length - 2);
        ScsiDiskEmulator.putU16(list, 2, list.length - 8);
        for (int i = 0; i < descriptors; i++)
        {
            ScsiDiskEmulator.putU64(list, 8 + 16 * i, lba + i * count);
            ScsiDiskEmulator.putU32(list, 16 + 16 * i, count);
        }
        return list;
    }

    @Test
    @EnabledIfSystemProperty(named = "braid.writeCorpus", matches = "true")
    void write() throws IOException
    {
        Files.createDirectories(DIR);
        final byte[] none = new byte[0];
        final byte[] block = new byte[1024];
        for (int i = 0; i < block.length; i++)
        {
            block[i] = (byte)(i * 31);
        }
        put("test_unit_ready", seed(0, 6, 0, 0, new int[] {0x00, 0, 0, 0, 0, 0}, none));
        put("inquiry_standard", seed(0, 6, 96, 1, new int[] {0x12, 0, 0, 0, 96, 0}, none));
        put("inquiry_short_alloc", seed(0, 6, 255, 0, new int[] {0x12, 0, 0, 0, 5, 0}, none));
        put("inquiry_vpd_00", seed(0, 6, 255, 0, new int[] {0x12, 1, 0x00, 0, 255, 0}, none));
        put("inquiry_vpd_80", seed(1, 6, 255, 0, new int[] {0x12, 1, 0x80, 0, 255, 0}, none));
        put("inquiry_vpd_83", seed(0, 6, 255, 1, new int[] {0x12, 1, 0x83, 1, 0, 0}, none));
        put("inquiry_vpd_b0", seed(0, 6, 64, 0, new int[] {0x12, 1, 0xB0, 0, 64, 0}, none));
        put("inquiry_vpd_b1", seed(0, 6, 64, 0, new int[] {0x12, 1, 0xB1, 0, 64, 0}, none));
        put("inquiry_missing_lun", seed(2, 6, 36, 0, new int[] {0x12, 0, 0, 0, 36, 0}, none));
        put("read_capacity_10", seed(0, 10, 8, 0, new int[] {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, none));
        put("read_capacity_16", seed(0, 16, 32, 0, new int[] {0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}, none));
        put("read_10", seed(0, 10, 1024, 3, new int[] {0x28, 0, 0, 0, 0, 2, 0, 0, 2, 0}, none));
        put("read_16_overrun", seed(0, 16, 700, 5, new int[] {0x88, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, none));
        put("read_10_out_of_range", seed(1, 10, 512, 0, new int[] {0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0}, none));
        put("write_10", seed(0, 10, 0, 0, new int[] {0x2A, 0, 0, 0, 0, 4, 0, 0, 2, 0}, block));
        put("write_16_short_data", seed(0, 16, 0, 0, new int[] {0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0}, block));
        put("mode_sense_6_caching", seed(0, 6, 255, 0, new int[] {0x1A, 0, 0x08, 0, 255, 0}, none));
        put("mode_sense_10_all", seed(0, 10, 512, 0, new int[] {0x5A, 0x10, 0x3F, 0xFF, 0, 0, 0, 2, 0, 0}, none));
        put("mode_sense_6_changeable", seed(0, 6, 255, 0, new int[] {0x1A, 8, 0x7F, 0, 255, 0}, none));
        put("sync_cache_10", seed(0, 10, 0, 0, new int[] {0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}, none));
        put("sync_cache_16", seed(0, 16, 0, 0, new int[] {0x91, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0}, none));
        put("unmap_good", seed(0, 10, 0, 0, new int[] {0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0}, unmap(2, 4, 3)));
        put("unmap_out_of_range", seed(1, 10, 0, 0, new int[] {0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}, unmap(1, 6, 3)));
        put("unmap_short_list", seed(0, 10, 0, 0, new int[] {0x42, 0, 0, 0, 0, 0, 0, 0, 100, 0}, unmap(1, 0, 1)));
        put("report_luns", seed(2, 12, 64, 0, new int[] {0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0}, none));
        put("request_sense", seed(2, 6, 252, 0, new int[] {0x03, 0, 0, 0, 252, 0}, none));
        put("invalid_opcode", seed(0, 6, 16, 0, new int[] {0xC1, 0, 0, 0, 0, 0}, none));
        put("short_cdb", seed(0, 3, 16, 0, new int[] {0x88, 0, 0}, none));
        put("naca", seed(0, 6, 0, 0, new int[] {0x00, 0, 0, 0, 0, 0x04}, none));
        put("empty", new byte[0]);
    }

    private static void put(final String name, final byte[] bytes) throws IOException
    {
        Files.write(DIR.resolve(name), bytes);
    }
}
