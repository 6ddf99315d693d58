package dev.braid.virtio.net;

import dev.braid.virtio.device.TestChain;
import dev.braid.virtio.device.VirtioFeatures;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static dev.braid.virtio.net.VirtioNet.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

class NetCtrlParserTest
{
    private final TestChain t = TestChain.create();
    private final NetCtrlParser parser = new NetCtrlParser().maxVirtqueuePairs(4).features(VirtioFeatures.mask(
        VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_MQ, VIRTIO_NET_F_GUEST_ANNOUNCE,
        VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VIRTIO_NET_F_GUEST_CSUM));
    private final NetCtrlRequest request = new NetCtrlRequest();

    private long command(final int commandClass, final int command, final byte[] payload)
    {
        t.start(3);
        t.readable(new byte[] {(byte)commandClass, (byte)command});
        if (payload.length > 0)
        {
            t.readable(payload);
        }
        return t.writable(1);
    }

    private void assertOk(final long value)
    {
        assertEquals(VIRTIO_NET_OK, parser.parse(t.memory, t.chain, request), request::toString);
        assertEquals(NetCtrlRequest.SUBMIT, request.outcome());
        assertEquals(value, request.value());
    }

    private void assertErr()
    {
        assertEquals(VIRTIO_NET_ERR, parser.parse(t.memory, t.chain, request), request::toString);
        assertEquals(NetCtrlRequest.COMPLETE, request.outcome());
    }

    private static byte[] le16(final int value)
    {
        return TestChain.le(2).putShort((short)value).array();
    }

    private static byte[] macTable(final int unicast, final int multicast)
    {
        final ByteBuffer b = TestChain.le(8 + 6 * (unicast + multicast));
        b.putInt(unicast).position(4 + 6 * unicast);
        b.putInt(multicast);
        return b.array();
    }

    @Test
    void multiqueuePairs()
    {
        final long ack = command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le16(4));
        assertOk(4);
        assertEquals(ack, request.ackGpa());
        assertEquals(VIRTIO_NET_CTRL_MQ, request.commandClass());

        command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le16(0));
        assertErr();
        command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le16(5));
        assertErr();
        command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, new byte[] {1});
        assertErr();
        command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, new byte[20]);
        assertErr();
    }

    @Test
    void rxModes()
    {
        command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, new byte[] {1});
        assertOk(1);
        command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, new byte[] {0});
        assertOk(0);
        command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLUNI, new byte[] {1});
        assertErr();
        command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, new byte[] {1, 0});
        assertErr();
        command(VIRTIO_NET_CTRL_RX, 9, new byte[] {1});
        assertErr();
    }

    @Test
    void macCommands()
    {
        command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x56});
        assertOk(0x5254_0012_3456L);
        command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, new byte[5]);
        assertErr();

        command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, macTable(2, 3));
        assertOk(0);
        assertEquals(2, request.unicastEntries());
        assertEquals(3, request.multicastEntries());
        assertEquals(8 + 30, request.payloadLength());

        command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, macTable(0, 0));
        assertOk(0);

        final byte[] lying = macTable(1, 1);
        lying[0] = (byte)0xFF;
        lying[3] = (byte)0xFF;
        command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, lying);
        assertErr();

        final byte[] trailing = new byte[macTable(1, 1).length + 1];
        System.arraycopy(macTable(1, 1), 0, trailing, 0, trailing.length - 1);
        command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, trailing);
        assertErr();

        command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, new byte[6]);
        assertErr();
    }

    @Test
    void announceVlanAndOffloads()
    {
        command(VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, new byte[0]);
        assertOk(0);
        command(VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, new byte[1]);
        assertErr();

        command(VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, le16(100));
        assertOk(100);
        command(VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_DEL, le16(4096));
        assertErr();

        command(VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
            TestChain.le(8).putLong(1L << VIRTIO_NET_F_GUEST_CSUM).array());
        assertOk(1L << VIRTIO_NET_F_GUEST_CSUM);
        command(VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
            TestChain.le(8).putLong(1L << VIRTIO_NET_F_GUEST_TSO4).array());
        assertErr();

        command(77, 0, new byte[0]);
        assertErr();
    }

    @Test
    void unnegotiatedClassesAreRefused()
    {
        parser.features(VirtioFeatures.bit(VIRTIO_NET_F_CTRL_VQ));
        command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le16(1));
        assertErr();
        command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, new byte[] {1});
        assertErr();
        command(VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, new byte[0]);
        assertErr();
    }

    @Test
    void layoutErrors()
    {
        t.start(1);
        t.readable(new byte[] {VIRTIO_NET_CTRL_ANNOUNCE, 0});
        assertEquals(VIRTIO_NET_ERR, parser.parse(t.memory, t.chain, request));
        assertEquals(NetCtrlRequest.COMPLETE_NO_ACK, request.outcome());

        t.start(2);
        t.readable(new byte[] {VIRTIO_NET_CTRL_ANNOUNCE});
        t.writable(1);
        assertErr();
        assertEquals(-1, request.commandClass());

        t.start(3);
        t.readableSplit(new byte[] {VIRTIO_NET_CTRL_MQ, 0, 2, 0}, 1, 3);
        t.writable(1);
        assertOk(2);
    }
}
