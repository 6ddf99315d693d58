package dev.braid.virtio;

import dev.braid.virtio.blk.VirtioBlk;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.net.NetDescriptor;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.VirtioScsi;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The numbers virtio-core takes from the virtio 1.2 spec, in one table: the spec's value beside the
 * constant (or computed length) that carries it, one case per row, named after the spec.
 */
class SpecNumbersTest
{
    static Stream<Arguments> numbers()
    {
        return Stream.of(
            // 6.3 reserved feature bits
            spec("VIRTIO_F_INDIRECT_DESC", 28, VirtioFeatures.INDIRECT_DESC),
            spec("VIRTIO_F_EVENT_IDX", 29, VirtioFeatures.EVENT_IDX),
            spec("VIRTIO_F_VERSION_1", 32, VirtioFeatures.VERSION_1),
            spec("VIRTIO_F_ACCESS_PLATFORM", 33, VirtioFeatures.ACCESS_PLATFORM),
            spec("VIRTIO_F_RING_PACKED", 34, VirtioFeatures.RING_PACKED),
            spec("VIRTIO_F_IN_ORDER", 35, VirtioFeatures.IN_ORDER),
            spec("VIRTIO_F_NOTIFICATION_DATA", 38, VirtioFeatures.NOTIFICATION_DATA),
            spec("VIRTIO_F_RING_RESET", 40, VirtioFeatures.RING_RESET),
            // 5.2 block device
            spec("VIRTIO_BLK_T_IN", 0, VirtioBlk.VIRTIO_BLK_T_IN),
            spec("VIRTIO_BLK_T_OUT", 1, VirtioBlk.VIRTIO_BLK_T_OUT),
            spec("VIRTIO_BLK_T_FLUSH", 4, VirtioBlk.VIRTIO_BLK_T_FLUSH),
            spec("VIRTIO_BLK_T_GET_ID", 8, VirtioBlk.VIRTIO_BLK_T_GET_ID),
            spec("VIRTIO_BLK_T_GET_LIFETIME", 10, VirtioBlk.VIRTIO_BLK_T_GET_LIFETIME),
            spec("VIRTIO_BLK_T_DISCARD", 11, VirtioBlk.VIRTIO_BLK_T_DISCARD),
            spec("VIRTIO_BLK_T_WRITE_ZEROES", 13, VirtioBlk.VIRTIO_BLK_T_WRITE_ZEROES),
            spec("VIRTIO_BLK_T_SECURE_ERASE", 14, VirtioBlk.VIRTIO_BLK_T_SECURE_ERASE),
            spec("VIRTIO_BLK_ID_BYTES", 20, VirtioBlk.VIRTIO_BLK_ID_BYTES),
            spec("VIRTIO_BLK_F_DISCARD", 13, VirtioBlk.VIRTIO_BLK_F_DISCARD),
            spec("VIRTIO_BLK_F_WRITE_ZEROES", 14, VirtioBlk.VIRTIO_BLK_F_WRITE_ZEROES),
            spec("VIRTIO_BLK_F_MQ", 12, VirtioBlk.VIRTIO_BLK_F_MQ),
            // 5.1 network device
            spec("sizeof(virtio_net_hdr)", 12, NetDescriptor.HDR_LENGTH),
            spec("VIRTIO_NET_F_MRG_RXBUF", 15, VirtioNet.VIRTIO_NET_F_MRG_RXBUF),
            spec("VIRTIO_NET_F_CTRL_VQ", 17, VirtioNet.VIRTIO_NET_F_CTRL_VQ),
            spec("VIRTIO_NET_F_GUEST_ANNOUNCE", 21, VirtioNet.VIRTIO_NET_F_GUEST_ANNOUNCE),
            spec("VIRTIO_NET_F_MQ", 22, VirtioNet.VIRTIO_NET_F_MQ),
            spec("VIRTIO_NET_F_MTU", 3, VirtioNet.VIRTIO_NET_F_MTU),
            spec("VIRTIO_NET_CTRL_MQ", 4, VirtioNet.VIRTIO_NET_CTRL_MQ),
            spec("VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX", 0x8000, VirtioNet.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX),
            spec("VIRTIO_NET_CTRL_ANNOUNCE", 3, VirtioNet.VIRTIO_NET_CTRL_ANNOUNCE),
            // 5.6 SCSI host device
            spec("VIRTIO_SCSI_S_OK", 0, VirtioScsi.VIRTIO_SCSI_S_OK),
            spec("VIRTIO_SCSI_S_BAD_TARGET", 3, VirtioScsi.VIRTIO_SCSI_S_BAD_TARGET),
            spec("VIRTIO_SCSI_S_FAILURE", 9, VirtioScsi.VIRTIO_SCSI_S_FAILURE),
            spec("VIRTIO_SCSI_S_FUNCTION_REJECTED", 11, VirtioScsi.VIRTIO_SCSI_S_FUNCTION_REJECTED),
            spec("VIRTIO_SCSI_S_INCORRECT_LUN", 12, VirtioScsi.VIRTIO_SCSI_S_INCORRECT_LUN),
            spec("VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET", 5, VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET),
            spec("cdb_size default", 32, VirtioScsi.VIRTIO_SCSI_CDB_DEFAULT_SIZE),
            spec("sense_size default", 96, VirtioScsi.VIRTIO_SCSI_SENSE_DEFAULT_SIZE),
            spec("sizeof(virtio_scsi_req_cmd), cdb_size 32", 51, ScsiDescriptor.cmdReqLength(32)),
            spec("sizeof(virtio_scsi_resp_cmd), sense_size 96", 108, ScsiDescriptor.cmdRespLength(96)));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("numbers")
    void constantMatchesTheSpec(final String specName, final long specValue, final long constant)
    {
        assertEquals(specValue, constant, specName);
    }

    private static Arguments spec(final String specName, final long specValue, final long constant)
    {
        return arguments(specName, specValue, constant);
    }
}
