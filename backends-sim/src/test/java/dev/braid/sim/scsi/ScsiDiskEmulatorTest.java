package dev.braid.sim.scsi;

import dev.braid.virtio.scsi.emulator.ScsiDiskEmulator;
import dev.braid.virtio.scsi.emulator.ScsiSense;
import dev.braid.virtio.scsi.emulator.VirtioScsiResponse;
import dev.braid.virtio.card.ScsiIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;

import static dev.braid.virtio.scsi.emulator.ScsiConstants.*;
import static dev.braid.sim.scsi.ScsiHarness.cdb;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class ScsiDiskEmulatorTest
{
    final ScsiHarness h = new ScsiHarness();

    static byte[] unmapList(final long lba, final long count)
    {
        final byte[] list = new byte[24];
        ScsiDiskEmulator.putU16(list, 0, 22);
        ScsiDiskEmulator.putU16(list, 2, 16);
        ScsiDiskEmulator.putU64(list, 8, lba);
        ScsiDiskEmulator.putU32(list, 16, count);
        return list;
    }

    /** name, lun, cdb, data-out, expected sense key (-1 = GOOD), expected ASC. */
    static Stream<Arguments> commands()
    {
        final long last = ScsiHarness.SECTORS - 1;
        return Stream.of(
            arguments("TEST UNIT READY", 0, cdb(0x00, 0, 0, 0, 0, 0), null, -1, 0),
            arguments("INQUIRY standard", 0, cdb(0x12, 0, 0, 0, 96, 0), null, -1, 0),
            arguments("INQUIRY VPD 0x00", 0, cdb(0x12, 1, 0x00, 0, 255, 0), null, -1, 0),
            arguments("INQUIRY VPD 0xB2", 0, cdb(0x12, 1, 0xB2, 0, 255, 0), null, -1, 0),
            arguments("INQUIRY page without EVPD", 0, cdb(0x12, 0, 0x80, 0, 255, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("INQUIRY CMDDT", 0, cdb(0x12, 2, 0, 0, 255, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("INQUIRY unknown VPD page", 0, cdb(0x12, 1, 0x99, 0, 255, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("unknown opcode 0x01", 0, cdb(0x01, 0, 0, 0, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE),
            arguments("opcode of unknown group 0xC0", 0, cdb(0xC0, 0, 0, 0, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE),
            arguments("empty CDB", 0, new byte[0], null, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE),
            arguments("CDB shorter than its group", 0, cdb(0x28, 0, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("NACA in control byte", 0, cdb(0x00, 0, 0, 0, 0, 4), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("READ(10) last block", 0, cdb(0x28, 0, 0, 0, 0x0F, 0xFF, 0, 0, 1, 0), null, -1, 0),
            arguments("READ(10) past the end", 0, cdb(0x28, 0, 0, 0, 0x0F, 0xFF, 0, 0, 2, 0), null, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE),
            arguments("READ(10) RDPROTECT", 0, cdb(0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("READ(16) LBA wraps", 0, cdb(0x88, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 2, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE),
            arguments("READ(16) longer than the disk", 0, cdb(0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE),
            arguments("READ(10) zero blocks at capacity", 0, cdb(0x28, 0, 0, 0, 0x10, 0x00, 0, 0, 0, 0), null, -1, 0),
            arguments("WRITE(10) one block", 0, cdb(0x2A, 0, 0, 0, 0, 5, 0, 0, 1, 0), new byte[512], -1, 0),
            arguments("WRITE(10) short data-out", 0, cdb(0x2A, 0, 0, 0, 0, 5, 0, 0, 2, 0), new byte[512], KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("WRITE(16) past the end", 0, cdb(0x8A, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 0, 0, 1, 0, 0), new byte[512], KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE),
            arguments("WRITE(10) WRPROTECT", 0, cdb(0x2A, 0x40, 0, 0, 0, 5, 0, 0, 1, 0), new byte[512], KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("READ CAPACITY(10)", 0, cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, -1, 0),
            arguments("READ CAPACITY(10) LBA without PMI", 0, cdb(0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("READ CAPACITY(16)", 0, cdb(0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), null, -1, 0),
            arguments("SERVICE ACTION IN unknown action", 0, cdb(0x9E, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("MODE SENSE(6) caching", 0, cdb(0x1A, 0, 0x08, 0, 255, 0), null, -1, 0),
            arguments("MODE SENSE(10) all pages", 0, cdb(0x5A, 0, 0x3F, 0, 0, 0, 0, 1, 0, 0), null, -1, 0),
            arguments("MODE SENSE(6) all pages and subpages", 0, cdb(0x1A, 0, 0x3F, 0xFF, 255, 0), null, -1, 0),
            arguments("MODE SENSE(6) unknown page", 0, cdb(0x1A, 0, 0x1C, 0, 255, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("MODE SENSE(6) subpage", 0, cdb(0x1A, 0, 0x08, 1, 255, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("MODE SENSE(6) saved values", 0, cdb(0x1A, 0, 0xC8, 0, 255, 0), null, KEY_ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED),
            arguments("SYNCHRONIZE CACHE(10) whole disk", 0, cdb(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, -1, 0),
            arguments("SYNCHRONIZE CACHE(16) past the end", 0, cdb(0x91, 0, 0, 0, 0, 0, 0, 0, 0x0F, 0xFF, 0, 0, 0, 2, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE),
            arguments("UNMAP good", 0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), unmapList(8, 8), -1, 0),
            arguments("UNMAP empty list", 0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, -1, 0),
            arguments("UNMAP ANCHOR", 0, cdb(0x42, 1, 0, 0, 0, 0, 0, 0, 24, 0), unmapList(8, 8), KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("UNMAP list shorter than header", 0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 4, 0), unmapList(8, 8), KEY_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR),
            arguments("UNMAP descriptors beyond the list", 0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 16, 0), unmapList(8, 8), KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST),
            arguments("UNMAP past the end", 0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), unmapList(last, 2), KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE),
            arguments("UNMAP huge LBA", 0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), unmapList(-1L, 1), KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE),
            arguments("REPORT LUNS", 0, cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), null, -1, 0),
            arguments("REPORT LUNS allocation below 16", 0, cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("REPORT LUNS unknown select report", 0, cdb(0xA0, 0, 0x10, 0, 0, 0, 0, 0, 1, 0, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("REQUEST SENSE", 0, cdb(0x03, 0, 0, 0, 18, 0), null, -1, 0),
            arguments("REQUEST SENSE descriptor format", 0, cdb(0x03, 1, 0, 0, 18, 0), null, KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
            arguments("TEST UNIT READY missing LUN", 7, cdb(0x00, 0, 0, 0, 0, 0), null, KEY_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED),
            arguments("READ(10) missing LUN", 7, cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0), null, KEY_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED),
            arguments("INQUIRY missing LUN", 7, cdb(0x12, 0, 0, 0, 36, 0), null, -1, 0),
            arguments("REPORT LUNS from a missing LUN", 7, cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), null, -1, 0),
            arguments("LUN 1 is small", 1, cdb(0x28, 0, 0, 0, 0, 64, 0, 0, 1, 0), null, KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void commandTable(final String name, final int lun, final byte[] cdb, final byte[] dataOut, final int key, final int asc)
    {
        final ScsiHarness.Result r = h.run(lun, cdb, dataOut, 4096);
        if (key < 0)
        {
            assertEquals(STATUS_GOOD, r.status(), name);
            assertEquals(0, r.sense().length, "no sense with GOOD");
            return;
        }
        assertEquals(STATUS_CHECK_CONDITION, r.status(), name);
        assertEquals(VirtioScsiResponse.OK, r.response());
        assertEquals(ScsiSense.LENGTH, r.sense().length);
        assertEquals(0x70, r.sense()[0] & 0xFF, "current error, fixed format");
        assertEquals(10, r.sense()[7], "additional sense length");
        assertEquals(key, r.senseKey(), name);
        assertEquals(asc, r.asc(), name);
        assertEquals(0, r.sense()[13], "ASCQ");
        assertEquals(0, r.transferred(), "nothing moves on CHECK CONDITION");
    }

    @Test
    void standardInquiry()
    {
        final ScsiHarness.Result r = h.run(cdb(0x12, 0, 0, 0, 255, 0), 4096);
        assertEquals(36, r.transferred());
        final byte[] d = r.data();
        assertEquals(0x00, d[0], "connected direct-access block device");
        assertEquals(0x06, d[2], "SPC-4");
        assertEquals(2, d[3] & 0x0F, "response data format 2");
        assertEquals(31, d[4], "additional length");
        assertEquals(0x02, d[7] & 0x02, "CMDQUE");
        assertEquals("BRAID   ", new String(d, 8, 8, StandardCharsets.US_ASCII));
        assertEquals("SIM DISK        ", new String(d, 16, 16, StandardCharsets.US_ASCII));
    }

    @Test
    void inquiryOnAMissingLunSaysNoUnitHere()
    {
        final ScsiHarness.Result r = h.run(9, cdb(0x12, 0, 0, 0, 36, 0), null, 4096);
        assertEquals(STATUS_GOOD, r.status());
        assertEquals(0x7F, r.data()[0] & 0xFF, "qualifier 011b, type 1Fh");
        final ScsiHarness.Result sense = h.run(9, cdb(0x03, 0, 0, 0, 252, 0), null, 4096);
        assertEquals(STATUS_GOOD, sense.status(), "REQUEST SENSE returns the sense as data");
        assertEquals(18, sense.transferred());
        assertEquals(KEY_ILLEGAL_REQUEST, sense.data()[2]);
        assertEquals(ASC_LUN_NOT_SUPPORTED, sense.data()[12]);
    }

    @Test
    void vpdPages()
    {
        final byte[] supported = h.run(cdb(0x12, 1, 0x00, 0, 255, 0), 4096).data();
        assertArrayEquals(new byte[] {0, 0, 0, 6, 0x00, (byte)0x80, (byte)0x83, (byte)0xB0, (byte)0xB1, (byte)0xB2}, supported);

        final byte[] serial = h.run(cdb(0x12, 1, 0x80, 0, 255, 0), 4096).data();
        assertEquals((byte)0x80, serial[1]);
        assertEquals(7, serial[3]);
        assertEquals("SIM0001", new String(serial, 4, 7, StandardCharsets.US_ASCII));

        final byte[] id = h.run(cdb(0x12, 1, 0x83, 0, 255, 0), 4096).data();
        assertEquals((byte)0x83, id[1]);
        assertEquals(id.length - 4, ScsiDiskEmulator.u16(id, 2));
        assertEquals(0x01, id[4], "binary code set");
        assertEquals(0x03, id[5], "NAA, associated with the logical unit");
        assertEquals(8, id[7]);
        final long naa = ScsiDiskEmulator.u64(id, 8);
        assertEquals(5, naa >>> 60, "NAA IEEE Registered");
        assertEquals(h.lun0.naa(), naa);
        assertEquals(0x12345, naa & 0xF_FFFF_FFFFL);
        assertEquals(0x02, id[16], "ASCII code set");
        assertEquals(0x01, id[17], "T10 vendor id");
        assertEquals("BRAID   SIM0001", new String(id, 20, id[19], StandardCharsets.US_ASCII));
        assertNotEquals(naa, h.lun1.naa());

        final byte[] limits = h.run(cdb(0x12, 1, 0xB0, 0, 255, 0), 4096).data();
        assertEquals(64, limits.length);
        assertEquals(0x3C, ScsiDiskEmulator.u16(limits, 2));
        assertEquals(ScsiDiskEmulator.MAX_TRANSFER_BLOCKS, ScsiDiskEmulator.u32(limits, 8));
        assertEquals(ScsiHarness.SECTORS, ScsiDiskEmulator.u32(limits, 20), "max unmap LBA count");
        assertEquals(ScsiDiskEmulator.MAX_UNMAP_DESCRIPTORS, ScsiDiskEmulator.u32(limits, 24));

        final byte[] characteristics = h.run(cdb(0x12, 1, 0xB1, 0, 255, 0), 4096).data();
        assertEquals(64, characteristics.length);
        assertEquals(1, ScsiDiskEmulator.u16(characteristics, 4), "non-rotating");
    }

    @Test
    void allocationLengthAndDataInSizeCutTheTransfer()
    {
        final ScsiHarness.Result cut = h.run(cdb(0x12, 0, 0, 0, 5, 0), 4096);
        assertEquals(STATUS_GOOD, cut.status());
        assertEquals(VirtioScsiResponse.OK, cut.response(), "a short allocation length is not an overrun");
        assertEquals(5, cut.transferred());
        assertEquals(31, cut.data()[4], "the length field still tells the full size");
        assertEquals((byte)0xEE, h.memory.getByte(ScsiHarness.DATA_IN + 5), "nothing past the allocation length");

        final ScsiHarness.Result small = h.run(cdb(0x12, 0, 0, 0, 255, 0), 10);
        assertEquals(STATUS_GOOD, small.status());
        assertEquals(VirtioScsiResponse.OVERRUN, small.response(), "the buffer was too small for the data");
        assertEquals(10, small.transferred());

        final ScsiHarness.Result none = h.run(cdb(0x12, 0, 0, 0, 0, 0), 4096);
        assertEquals(0, none.transferred());
        assertEquals(VirtioScsiResponse.OK, none.response());

        final ScsiHarness.Result read = h.run(cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 4, 0), 1000);
        assertEquals(VirtioScsiResponse.OVERRUN, read.response());
        assertEquals(1000, read.transferred());
        assertEquals((byte)0xEE, h.memory.getByte(ScsiHarness.DATA_IN + 1000));
    }

    @Test
    void readCapacity()
    {
        final byte[] ten = h.run(cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 4096).data();
        assertEquals(8, ten.length);
        assertEquals(ScsiHarness.SECTORS - 1, ScsiDiskEmulator.u32(ten, 0));
        assertEquals(512, ScsiDiskEmulator.u32(ten, 4));

        final byte[] sixteen = h.run(cdb(0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), 4096).data();
        assertEquals(32, sixteen.length);
        assertEquals(ScsiHarness.SECTORS - 1, ScsiDiskEmulator.u64(sixteen, 0));
        assertEquals(512, ScsiDiskEmulator.u32(sixteen, 8));
        assertEquals(0xC0, sixteen[14] & 0xC0, "LBPME and LBPRZ");

        final byte[] cut = h.run(cdb(0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0), 4096).data();
        assertEquals(12, cut.length);
    }

    @Test
    void modeSense()
    {
        final byte[] six = h.run(cdb(0x1A, 0, 0x08, 0, 255, 0), 4096).data();
        assertEquals(4 + 8 + 20, six.length);
        assertEquals(six.length - 1, six[0]);
        assertEquals(8, six[3], "block descriptor length");
        assertEquals(ScsiHarness.SECTORS, ScsiDiskEmulator.u32(six, 4));
        assertEquals(512, ScsiDiskEmulator.u32(six, 8) & 0xFFFFFF);
        assertEquals(0x08, six[12]);
        assertEquals(0x12, six[13]);
        assertEquals(0x04, six[14] & 0x04, "WCE");

        final byte[] dbd = h.run(cdb(0x1A, 0x08, 0x08, 0, 255, 0), 4096).data();
        assertEquals(4 + 20, dbd.length);
        assertEquals(0, dbd[3]);

        final byte[] all = h.run(cdb(0x5A, 0x08, 0x3F, 0, 0, 0, 0, 1, 0, 0), 4096).data();
        assertEquals(8 + 12 + 20 + 12, all.length);
        assertEquals(all.length - 2, ScsiDiskEmulator.u16(all, 0));
        assertEquals(0x01, all[8]);
        assertEquals(0x08, all[20]);
        assertEquals(0x0A, all[40]);

        final byte[] longLba = h.run(cdb(0x5A, 0x10, 0x08, 0, 0, 0, 0, 1, 0, 0), 4096).data();
        assertEquals(16, ScsiDiskEmulator.u16(longLba, 6));
        assertEquals(1, longLba[4] & 1, "LONGLBA");
        assertEquals(ScsiHarness.SECTORS, ScsiDiskEmulator.u64(longLba, 8));

        final byte[] changeable = h.run(cdb(0x1A, 0x08, 0x48, 0, 255, 0), 4096).data();
        assertEquals(0, changeable[4 + 2], "nothing is changeable");

        final ScsiHarness.Result cut = h.run(cdb(0x1A, 0, 0x3F, 0, 4, 0), 4096);
        assertEquals(4, cut.transferred());
        assertEquals(4 + 8 + 12 + 20 + 12 - 1, cut.data()[0] & 0xFF);
    }

    @Test
    void writeThenReadReturnsTheDataAndTagsVersions()
    {
        final byte[] data = new byte[3 * 512];
        for (int i = 0; i < data.length; i++)
        {
            data[i] = (byte)(i * 13 + 1);
        }
        assertEquals(STATUS_GOOD, h.run(0, cdb(0x2A, 0, 0, 0, 0, 10, 0, 0, 3, 0), data, 0).status());
        assertEquals(1, h.store.version(10));
        assertEquals(1, h.store.version(12));
        assertEquals(0, h.store.version(13));
        final ScsiHarness.Result r = h.run(cdb(0x88, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 3, 0, 0), 4096);
        assertEquals(VirtioScsiResponse.OK, r.response());
        assertArrayEquals(data, r.data());

        assertEquals(STATUS_GOOD, h.run(0, cdb(0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 1, 0, 0), new byte[512], 0).status());
        assertEquals(2, h.store.version(11));
        final byte[] again = h.run(cdb(0x28, 0, 0, 0, 0, 10, 0, 0, 3, 0), 4096).data();
        assertArrayEquals(Arrays.copyOf(data, 512), Arrays.copyOf(again, 512));
        assertArrayEquals(new byte[512], Arrays.copyOfRange(again, 512, 1024));
    }

    @Test
    void unmapZeroesAndRejectsWithoutPartialEffect()
    {
        final byte[] ones = new byte[16 * 512];
        Arrays.fill(ones, (byte)1);
        h.run(0, cdb(0x2A, 0, 0, 0, 0, 0, 0, 0, 16, 0), ones, 0);
        final long written = h.store.version(4);

        final byte[] two = new byte[8 + 32];
        ScsiDiskEmulator.putU16(two, 0, 38);
        ScsiDiskEmulator.putU16(two, 2, 32);
        ScsiDiskEmulator.putU64(two, 8, 2);
        ScsiDiskEmulator.putU32(two, 16, 3);
        ScsiDiskEmulator.putU64(two, 24, ScsiHarness.SECTORS);     // second descriptor out of range
        ScsiDiskEmulator.putU32(two, 32, 1);
        final ScsiHarness.Result bad = h.run(0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0), two, 0);
        assertEquals(ASC_LBA_OUT_OF_RANGE, bad.asc());
        assertEquals(1, h.store.data().getByte(2 * 512), "a rejected list unmaps nothing");

        ScsiDiskEmulator.putU64(two, 24, 8);
        assertEquals(STATUS_GOOD, h.run(0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0), two, 0).status());
        final byte[] back = h.run(cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 16, 0), 16 * 512).data();
        for (int block = 0; block < 16; block++)
        {
            final boolean unmapped = block >= 2 && block < 5 || block == 8;
            assertEquals(unmapped ? 0 : 1, back[block * 512 + 100], "block " + block);
        }
        assertTrue(h.store.version(3) > written, "unmapped blocks carry a new version");
        assertEquals(written, h.store.version(6));
    }

    @Test
    void reportLunsListsTheTarget()
    {
        final byte[] d = h.run(cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), 4096).data();
        assertEquals(8 + 16, d.length);
        assertEquals(16, ScsiDiskEmulator.u32(d, 0));
        assertEquals(0, d[9]);
        assertEquals(1, d[17]);
        final ScsiHarness.Result cut = h.run(cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0), 4096);
        assertEquals(16, cut.transferred());
        assertEquals(16, ScsiDiskEmulator.u32(cut.data(), 0), "the list length is the full length");
    }

    @Test
    void senseNeverOverrunsAShortBuffer()
    {
        final byte[] small = new byte[8];
        assertEquals(8, ScsiSense.write(small, 0, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0));
        assertEquals(0x70, small[0] & 0xFF);
        assertEquals(0, ScsiSense.write(small, 8, KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0));
        assertEquals(ScsiIo.MAX_SENSE, new ScsiIo(1).sense().length);
    }
}
