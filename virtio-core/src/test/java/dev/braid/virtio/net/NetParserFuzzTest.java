package dev.braid.virtio.net;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.virtio.device.FuzzChain;
import dev.braid.virtio.device.TestChain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetParserFuzzTest
{
    private static final FuzzChain INPUT = new FuzzChain();
    private static final NetTxParser TX = new NetTxParser();
    private static final NetTxRequest TX_REQUEST = new NetTxRequest();
    private static final NetCtrlParser CTRL = new NetCtrlParser();
    private static final NetCtrlRequest CTRL_REQUEST = new NetCtrlRequest();

    /** Options byte: the low byte of the negotiated features, shifted onto the offload bits. */
    @FuzzTest(maxDuration = "30s")
    void tx(final byte[] data)
    {
        if (!INPUT.load(data))
        {
            return;
        }
        TX.mtu(1500).features((long)INPUT.options << VirtioNet.VIRTIO_NET_F_HOST_TSO4 | INPUT.options & 1);
        final int status = TX.parse(INPUT.memory, INPUT.chain, TX_REQUEST);
        assertTrue(NetTxParser.isValidStatus(status), "status " + status);
        assertEquals(status, TX_REQUEST.status());
        if (status == NetTxParser.TX_OK)
        {
            assertTrue(TX_REQUEST.frameLength() >= VirtioNet.ETH_HLEN);
            assertTrue(TestChain.rangeInside(INPUT.chain, TX_REQUEST.frameSegment(), TX_REQUEST.frameOffset(),
                TX_REQUEST.frameLength(), false), TX_REQUEST.toString());
        }
    }

    /** Options byte: bit i enables control feature 17 + i (CTRL_VQ .. CTRL_MAC_ADDR). */
    @FuzzTest(maxDuration = "30s")
    void ctrl(final byte[] data)
    {
        if (!INPUT.load(data))
        {
            return;
        }
        CTRL.maxVirtqueuePairs(4).features((long)INPUT.options << VirtioNet.VIRTIO_NET_F_CTRL_VQ);
        final int ack = CTRL.parse(INPUT.memory, INPUT.chain, CTRL_REQUEST);
        assertTrue(ack == VirtioNet.VIRTIO_NET_OK || ack == VirtioNet.VIRTIO_NET_ERR, "ack " + ack);
        assertEquals(ack, CTRL_REQUEST.ack());
        if (CTRL_REQUEST.outcome() != NetCtrlRequest.COMPLETE_NO_ACK)
        {
            assertTrue(INPUT.memory.isValidRange(CTRL_REQUEST.ackGpa(), 1));
        }
        if (CTRL_REQUEST.outcome() == NetCtrlRequest.SUBMIT)
        {
            assertTrue(TestChain.rangeInside(INPUT.chain, CTRL_REQUEST.payloadSegment(), CTRL_REQUEST.payloadOffset(),
                CTRL_REQUEST.payloadLength(), false), CTRL_REQUEST.toString());
        }
    }
}
