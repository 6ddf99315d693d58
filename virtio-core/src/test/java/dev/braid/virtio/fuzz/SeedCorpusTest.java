package dev.braid.virtio.fuzz;

import dev.braid.virtio.blk.BlkRequest;
import dev.braid.virtio.blk.BlkRequestParser;
import dev.braid.virtio.device.FuzzChain;
import dev.braid.virtio.net.NetCtrlParser;
import dev.braid.virtio.net.NetCtrlRequest;
import dev.braid.virtio.net.NetTxParser;
import dev.braid.virtio.net.NetTxRequest;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.scsi.ScsiRequest;
import dev.braid.virtio.scsi.ScsiRequestParser;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Each committed seed exercises the case its name says: the corpus is not random noise. */
class SeedCorpusTest
{
    private static final FuzzChain INPUT = new FuzzChain();

    private static void load(final String resource) throws IOException
    {
        try (InputStream in = SeedCorpusTest.class.getResourceAsStream("/dev/braid/virtio/" + resource))
        {
            assertNotNull(in, resource);
            INPUT.load(in.readAllBytes());
        }
    }

    @ParameterizedTest
    @CsvSource({
        "read, 0", "write-split-header, 0", "write-read-only, 1", "flush, 0", "get-id, 0", "discard, 0",
        "write-zeroes-unmap, 0", "header-across-regions, 0", "read-past-capacity, 1", "no-writable, 1",
        "status-outside-memory, 1", "unsupported-type, 2",
    })
    void blk(final String name, final int status) throws IOException
    {
        load("blk/BlkRequestParserFuzzTestInputs/parse/" + name);
        final int options = INPUT.options;
        final BlkRequestParser parser = new BlkRequestParser().capacity(((options >>> 4) + 1L) * 8)
            .readOnly((options & 1) != 0).flush((options & 2) != 0)
            .discard((options & 4) != 0, 16, 2).writeZeroes((options & 8) != 0, 16, 3);
        final BlkRequest request = new BlkRequest();
        assertEquals(status, parser.parse(INPUT.memory, INPUT.chain, request), request::toString);
    }

    @ParameterizedTest
    @CsvSource({"plain, 0", "split-header, 0", "gso-tcpv4, 0", "too-long, 4", "bad-csum, 6", "writable, 1"})
    void tx(final String name, final int status) throws IOException
    {
        load("net/NetParserFuzzTestInputs/tx/" + name);
        final NetTxParser parser = new NetTxParser().mtu(1500)
            .features((long)INPUT.options << VirtioNet.VIRTIO_NET_F_HOST_TSO4 | INPUT.options & 1);
        final NetTxRequest request = new NetTxRequest();
        assertEquals(status, parser.parse(INPUT.memory, INPUT.chain, request), request::toString);
    }

    @ParameterizedTest
    @CsvSource({"mq-pairs, 0", "rx-promisc, 0", "mac-table, 0", "mac-addr, 0", "announce-ack, 0", "vlan-add, 0",
        "no-ack, 2"})
    void ctrl(final String name, final int outcome) throws IOException
    {
        load("net/NetParserFuzzTestInputs/ctrl/" + name);
        final NetCtrlParser parser = new NetCtrlParser().maxVirtqueuePairs(4)
            .features((long)INPUT.options << VirtioNet.VIRTIO_NET_F_CTRL_VQ);
        final NetCtrlRequest request = new NetCtrlRequest();
        parser.parse(INPUT.memory, INPUT.chain, request);
        assertEquals(outcome, request.outcome(), request::toString);
    }

    @ParameterizedTest
    @CsvSource({"read, 0", "write-split, 0", "bidirectional, 0", "bad-lun, 3", "short-request, 9", "no-response-room, 9"})
    void command(final String name, final int response) throws IOException
    {
        load("scsi/ScsiRequestParserFuzzTestInputs/command/" + name);
        final ScsiRequest request = new ScsiRequest();
        assertEquals(response, scsi().parseCommand(INPUT.memory, INPUT.chain, request), request::toString);
    }

    @ParameterizedTest
    @CsvSource({"abort-task, 0", "lun-reset-split, 0", "bad-subtype, 11", "an-query, 0", "an-bad-lun, 3",
        "unknown-type, 9"})
    void control(final String name, final int response) throws IOException
    {
        load("scsi/ScsiRequestParserFuzzTestInputs/control/" + name);
        final ScsiRequest request = new ScsiRequest();
        assertEquals(response, scsi().parseControl(INPUT.memory, INPUT.chain, request), request::toString);
    }

    private static ScsiRequestParser scsi()
    {
        final int options = INPUT.options;
        return new ScsiRequestParser().inout((options & 1) != 0)
            .sizes(6 + 2 * ((options >>> 1) & 7), 4 * (options >>> 4)).limits(3, 15);
    }
}
