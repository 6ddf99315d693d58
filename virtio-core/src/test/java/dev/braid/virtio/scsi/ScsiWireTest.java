package dev.braid.virtio.scsi;

import dev.braid.virtio.WireLayoutTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScsiWireTest extends WireLayoutTest
{
    @Test
    void commandRequestLayout()
    {
        final ScsiCmdReq req = new ScsiCmdReq().wrap(memory, 0);
        req.lun(ScsiLun.encode(2, 0x123)).id(0x1817_1615_1413_1211L).taskAttr(1).prio(2).crn(3).cdb(0, 0x28).cdb(31, 0xFF);
        assertArrayEquals(new byte[] {1, 2, 0x41, 0x23, 0, 0, 0, 0, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 1, 2, 3, 0x28},
            bytes(0, 20));
        assertEquals((byte)0xFF, memory.getByte(19 + 31));
        assertEquals(0x1817_1615_1413_1211L, req.id());
        assertEquals(0x28, req.cdb(0));
        req.putCdb(new byte[] {0x12, 0, 0, 0, 36, 0}, 6);
        assertEquals(0x12, req.cdb(0));
        assertEquals(36, req.cdb(4));
    }

    @Test
    void commandResponseLayout()
    {
        final ScsiCmdResp resp = new ScsiCmdResp().wrap(memory, 100);
        resp.senseLen(0x04030201L).resid(0x08070605L).statusQualifier(0x0A09).status(0x0B).response(0x0C);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, bytes(100, 12));
        resp.putSense(new byte[] {0x70, 0, 5}, 3);
        assertEquals(3, resp.senseLen());
        assertEquals(0x70, resp.sense(0));
        assertEquals(0x70, memory.getByte(112));
    }

    @Test
    void controlAndEventLayouts()
    {
        new ScsiTmfReq().wrap(memory, 0).type(0).subtype(5).lun(ScsiLun.encode(1, 2)).id(9);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 5, 0, 0, 0, 1, 1, 0x40, 2, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0}, bytes(0, 24));
        new ScsiTmfResp().wrap(memory, 30).response(10);
        assertEquals(10, memory.getByte(30));

        new ScsiAnReq().wrap(memory, 40).type(1).lun(ScsiLun.encode(0, 0)).eventRequested(0x10);
        assertArrayEquals(new byte[] {1, 0, 0, 0, 1, 0, 0x40, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}, bytes(40, 16));
        new ScsiAnResp().wrap(memory, 60).eventActual(0x10).response(0);
        assertArrayEquals(new byte[] {0x10, 0, 0, 0, 0}, bytes(60, 5));

        final ScsiEvent event = new ScsiEvent().wrap(memory, 80).event(VirtioScsi.VIRTIO_SCSI_T_TRANSPORT_RESET)
            .lun(ScsiLun.encode(3, 7)).reason(VirtioScsi.VIRTIO_SCSI_EVT_RESET_RESCAN);
        assertArrayEquals(new byte[] {1, 0, 0, 0, 1, 3, 0x40, 7, 0, 0, 0, 0, 1, 0, 0, 0}, bytes(80, 16));
        event.event(VirtioScsi.VIRTIO_SCSI_T_NO_EVENT | VirtioScsi.VIRTIO_SCSI_T_EVENTS_MISSED);
        assertEquals(0x8000_0000L, event.event());
    }

    @Test
    void configLayoutAndDriverWritableSizes()
    {
        final ScsiConfig config = new ScsiConfig().numQueues(4).segMax(126).maxSectors(0xFFFF).cmdPerLun(128)
            .eventInfoSize(16).maxChannel(0).maxTarget(255).maxLun(16383);
        assertEquals(4, config.read(0, 4));
        assertEquals(126, config.read(4, 4));
        assertEquals(0xFFFF, config.read(8, 4));
        assertEquals(128, config.read(12, 4));
        assertEquals(16, config.read(16, 4));
        assertEquals(96, config.read(20, 4));
        assertEquals(32, config.read(24, 4));
        assertEquals(0, config.read(28, 2));
        assertEquals(255, config.read(30, 2));
        assertEquals(16383, config.read(32, 4));
        assertEquals(36, config.size());

        assertTrue(config.write(24, 4, 16));
        assertTrue(config.write(20, 4, 64));
        assertEquals(16, config.cdbSize());
        assertEquals(64, config.senseSize());
        assertEquals(2, config.driverWrites());
        assertFalse(config.write(0, 4, 1));
        assertFalse(config.write(28, 4, 1), "straddles into max_channel");
    }

    @Test
    void lunEncoding()
    {
        final byte[] field = new byte[8];
        ScsiLun.encode(5, 0x1234, field, 0);
        assertArrayEquals(new byte[] {1, 5, 0x52, 0x34, 0, 0, 0, 0}, field);
        final long value = ScsiLun.encode(5, 0x1234);
        assertTrue(ScsiLun.isWellFormed(value));
        assertEquals(5, ScsiLun.target(value));
        assertEquals(0x1234, ScsiLun.lun(value));

        assertTrue(ScsiLun.isWellFormed(0x0700_0301L), "peripheral addressing below 256");
        assertEquals(7, ScsiLun.lun(0x0700_0301L));
        assertFalse(ScsiLun.isWellFormed(0x0040_0302L), "byte 0 must be 1");
        assertFalse(ScsiLun.isWellFormed(0x0080_0301L), "logical unit addressing is not flat");
        assertFalse(ScsiLun.isWellFormed(0x0001_0301L), "bus number in peripheral addressing");
        assertFalse(ScsiLun.isWellFormed(ScsiLun.encode(1, 1) | 1L << 40), "bytes 4-7 must be 0");
    }
}
