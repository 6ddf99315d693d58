package dev.braid.virtio.net;

import dev.braid.virtio.WireLayoutTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetWireTest extends WireLayoutTest
{
    @Test
    void headerLayout()
    {
        final NetHeader header = new NetHeader().wrap(memory, 64);
        header.flags(1).gsoType(2).hdrLen(0x0403).gsoSize(0x0605).csumStart(0x0807).csumOffset(0x0A09).numBuffers(0x0C0B);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, bytes(64, 12));
        assertEquals(1, header.flags());
        assertEquals(2, header.gsoType());
        assertEquals(0x0403, header.hdrLen());
        assertEquals(0x0605, header.gsoSize());
        assertEquals(0x0807, header.csumStart());
        assertEquals(0x0A09, header.csumOffset());
        assertEquals(0x0C0B, header.numBuffers());
        header.clear(3);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0}, bytes(64, 12));
    }

    @Test
    void controlHeaderLayout()
    {
        new NetCtrlHeader().wrap(memory, 10).commandClass(VirtioNet.VIRTIO_NET_CTRL_MQ)
            .command(VirtioNet.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
        assertArrayEquals(new byte[] {4, 0}, bytes(10, 2));
        assertEquals(4, new NetCtrlHeader().wrap(memory, 10).commandClass());
    }

    @Test
    void configLayout()
    {
        final NetConfig config = new NetConfig().mac(0x5254_0012_3456L).linkUp(true).announce(true)
            .maxVirtqueuePairs(8).mtu(9000).speed(100_000).duplex(1);
        assertEquals(0x52, config.read(0, 1));
        assertEquals(0x54, config.read(1, 1));
        assertEquals(0x56, config.read(5, 1));
        assertEquals(VirtioNet.VIRTIO_NET_S_LINK_UP | VirtioNet.VIRTIO_NET_S_ANNOUNCE, config.read(6, 2));
        assertEquals(8, config.read(8, 2));
        assertEquals(9000, config.read(10, 2));
        assertEquals(100_000, config.read(12, 4));
        assertEquals(1, config.read(16, 1));
        assertEquals(0x5254_0012_3456L, config.mac());
        config.announce(false);
        assertFalse(config.announce());
        assertTrue(config.linkUp());
        assertFalse(config.write(0, 1, 0), "the MAC is not driver-writable in a modern device");
    }
}
