package dev.braid.virtio.blk;

import dev.braid.virtio.WireLayoutTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlkWireTest extends WireLayoutTest
{
    @Test
    void onlyTheThreeSpecStatusesAreValid()
    {
        assertTrue(VirtioBlk.isValidStatus(VirtioBlk.VIRTIO_BLK_S_OK));
        assertTrue(VirtioBlk.isValidStatus(VirtioBlk.VIRTIO_BLK_S_IOERR));
        assertTrue(VirtioBlk.isValidStatus(2));
        assertFalse(VirtioBlk.isValidStatus(3));
    }

    @Test
    void requestHeaderLayout()
    {
        final BlkRequestHeader header = new BlkRequestHeader().wrap(memory, 100);
        header.type(0x0403_0201L).ioprio(0x0807_0605).sector(0x100F_0E0D_0C0B_0A09L);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, bytes(100, 16));
        assertEquals(0x0403_0201L, header.type());
        assertEquals(0x0807_0605, header.ioprio());
        assertEquals(0x100F_0E0D_0C0B_0A09L, header.sector());
        header.type(0xFFFF_FFFFL);
        assertEquals(0xFFFF_FFFFL, header.type());
    }

    @Test
    void discardSegmentLayout()
    {
        final BlkDiscardSegment segment = new BlkDiscardSegment().wrap(memory, 200);
        segment.sector(0x0807_0605_0403_0201L).numSectors(0x0C0B_0A09L).flags(1);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 0, 0, 0}, bytes(200, 16));
        assertTrue(segment.unmap());
        segment.numSectors(0xFFFF_FFFFL);
        assertEquals(0xFFFF_FFFFL, segment.numSectors());
    }

    @Test
    void configLayoutAndAccess()
    {
        final BlkConfig config = new BlkConfig()
            .capacity(0x1122_3344_5566_7788L)
            .sizeMax(0x1000)
            .segMax(126)
            .geometryCylinders(0x0102).geometryHeads(3).geometrySectors(4)
            .blkSize(4096)
            .physicalBlockExp(3).alignmentOffset(1).minIoSize(8).optIoSize(256)
            .writeback(1)
            .numQueues(4)
            .maxDiscardSectors(0xAAAA).maxDiscardSeg(1).discardSectorAlignment(8)
            .maxWriteZeroesSectors(0xBBBB).maxWriteZeroesSeg(2).writeZeroesMayUnmap(1);
        assertEquals(0x1122_3344_5566_7788L, config.read(0, 8));
        assertEquals(0x7788, config.read(0, 2));
        assertEquals(0x1000, config.read(8, 4));
        assertEquals(126, config.read(12, 4));
        assertEquals(0x0102, config.read(16, 2));
        assertEquals(3, config.read(18, 1));
        assertEquals(4, config.read(19, 1));
        assertEquals(4096, config.read(20, 4));
        assertEquals(3, config.read(24, 1));
        assertEquals(1, config.read(25, 1));
        assertEquals(8, config.read(26, 2));
        assertEquals(256, config.read(28, 4));
        assertEquals(1, config.read(32, 1));
        assertEquals(4, config.read(34, 2));
        assertEquals(0xAAAA, config.read(36, 4));
        assertEquals(1, config.read(40, 4));
        assertEquals(8, config.read(44, 4));
        assertEquals(0xBBBB, config.read(48, 4));
        assertEquals(2, config.read(52, 4));
        assertEquals(1, config.read(56, 1));
        assertEquals(BlkDescriptor.CFG_LENGTH, config.size());
    }

    @Test
    void configAccessOutsideOrReadOnlyIsHarmless()
    {
        final BlkConfig config = new BlkConfig().capacity(7);
        assertEquals(0, config.read(BlkDescriptor.CFG_LENGTH, 1));
        assertEquals(0, config.read(-1, 4));
        assertEquals(0, config.read(70, 4));
        assertEquals(0, config.read(0, 3 + 8));
        assertFalse(config.write(0, 8, 99));
        assertEquals(7, config.capacity());
        assertFalse(config.write(1000, 1, 1));
        assertTrue(config.write(BlkDescriptor.CFG_WRITEBACK_OFFSET, 1, 1));
        assertEquals(1, config.writeback());
        assertFalse(config.write(BlkDescriptor.CFG_WRITEBACK_OFFSET, 2, 1));
    }
}
