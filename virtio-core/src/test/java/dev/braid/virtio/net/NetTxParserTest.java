package dev.braid.virtio.net;

import dev.braid.virtio.device.TestChain;
import dev.braid.virtio.device.VirtioFeatures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static dev.braid.virtio.net.NetTxParser.*;
import static dev.braid.virtio.net.VirtioNet.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

class NetTxParserTest
{
    private final TestChain t = TestChain.create();
    private final NetTxParser parser = new NetTxParser().mtu(1500).features(VirtioFeatures.mask(
        VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_MTU));
    private final NetTxRequest request = new NetTxRequest();

    static byte[] header(final int flags, final int gsoType, final int gsoSize, final int csumStart, final int csumOffset)
    {
        return TestChain.le(12).put((byte)flags).put((byte)gsoType).putShort((short)54).putShort((short)gsoSize)
            .putShort((short)csumStart).putShort((short)csumOffset).putShort((short)0).array();
    }

    private int parse()
    {
        return parser.parse(t.memory, t.chain, request);
    }

    @Test
    void headerThenFrameInSeparateSegments()
    {
        t.readable(header(0, 0, 0, 0, 0));
        t.readable(new byte[60]);
        assertEquals(TX_OK, parse());
        assertEquals(1, request.frameSegment());
        assertEquals(0, request.frameOffset());
        assertEquals(60, request.frameLength());
    }

    @Test
    void headerSplitAndSharingASegmentWithTheFrame()
    {
        final byte[] all = new byte[12 + 100];
        System.arraycopy(header(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16), 0, all, 0, 12);
        t.readableSplit(all, 5, 40);
        assertEquals(TX_OK, parse());
        assertEquals(1, request.frameSegment());
        assertEquals(7, request.frameOffset());
        assertEquals(100, request.frameLength());
        assertEquals(1448, request.gsoSize());
        assertEquals(34, request.csumStart());
        assertEquals(16, request.csumOffset());
        assertEquals(54, request.hdrLen());
        assertEquals(true, request.needsChecksum());
    }

    @Test
    void malformedChains()
    {
        t.readable(new byte[11]);
        assertEquals(TX_SHORT_HEADER, parse());

        t.start(1);
        t.readable(header(0, 0, 0, 0, 0));
        t.readable(new byte[60]);
        t.writable(1);
        assertEquals(TX_BAD_LAYOUT, parse());

        t.start(2);
        t.readable(header(0, 0, 0, 0, 0));
        t.readable(new byte[13]);
        assertEquals(TX_FRAME_TOO_SHORT, parse());

        t.start(3);
        t.add(t.memory.totalLength() - 4, 64, false);
        assertEquals(TX_SHORT_HEADER, parse());
    }

    /** One header and one frame segment: what the parser makes of the header's fields and the frame's length. */
    static Stream<Arguments> headerAndFrame()
    {
        final int csum = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        return Stream.of(
            Arguments.of("MTU-size frame plus Ethernet and VLAN headers", 0, 0, 0, 0, 0, 1500 + 18, TX_OK),
            Arguments.of("one byte longer", 0, 0, 0, 0, 0, 1500 + 19, TX_FRAME_TOO_LONG),
            Arguments.of("GSO frame past the GSO limit", 0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0, 0, MAX_GSO_FRAME + 1,
                TX_FRAME_TOO_LONG),
            Arguments.of("TSO6 not negotiated", 0, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 0, 0, 200, TX_BAD_GSO),
            Arguments.of("gso_size 0", 0, VIRTIO_NET_HDR_GSO_TCPV4, 0, 0, 0, 200, TX_BAD_GSO),
            Arguments.of("ECN without a GSO type", 0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, 200, TX_BAD_GSO),
            Arguments.of("HOST_ECN not negotiated", 0, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 0, 0, 200,
                TX_BAD_GSO),
            Arguments.of("unknown GSO type", 0, 77, 1448, 0, 0, 200, TX_BAD_GSO),
            Arguments.of("checksum field past the frame", csum, 0, 0, 190, 9, 200, TX_BAD_CSUM),
            Arguments.of("checksum field ending the frame", csum, 0, 0, 190, 8, 200, TX_OK));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("headerAndFrame")
    void headerFieldsAndFrameLengthAreChecked(
        final String name,
        final int flags,
        final int gsoType,
        final int gsoSize,
        final int csumStart,
        final int csumOffset,
        final int frameLength,
        final int expected)
    {
        t.readable(header(flags, gsoType, gsoSize, csumStart, csumOffset));
        t.readable(new byte[frameLength]);
        assertEquals(expected, parse());
    }

    @Test
    void checksumOffloadNotNegotiated()
    {
        parser.features(0);
        t.readable(header(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 190, 8));
        t.readable(new byte[200]);
        assertEquals(TX_BAD_CSUM, parse());
    }

    @Test
    void configureTakesTheMtuOnlyWhenNegotiated()
    {
        final NetConfig config = new NetConfig().mtu(9000);
        assertEquals(9000, new NetTxParser().configure(config, VirtioFeatures.bit(VIRTIO_NET_F_MTU)).mtu());
        assertEquals(DEFAULT_MTU, new NetTxParser().configure(config, 0).mtu());
    }
}
