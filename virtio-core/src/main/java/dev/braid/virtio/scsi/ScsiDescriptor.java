package dev.braid.virtio.scsi;

/** Byte layouts of the virtio-scsi structures; multi-byte fields little-endian. */
public final class ScsiDescriptor
{
    public static final int LUN_LENGTH = 8;

    // struct virtio_scsi_req_cmd (device-readable): lun[8], le64 id, u8 task_attr, u8 prio, u8 crn, cdb[cdb_size].
    public static final int CMD_LUN_OFFSET = 0;
    public static final int CMD_ID_OFFSET = 8;
    public static final int CMD_TASK_ATTR_OFFSET = 16;
    public static final int CMD_PRIO_OFFSET = 17;
    public static final int CMD_CRN_OFFSET = 18;
    public static final int CMD_CDB_OFFSET = 19;

    // struct virtio_scsi_resp_cmd (device-writable): le32 sense_len, le32 resid, le16 status_qualifier,
    // u8 status, u8 response, sense[sense_size].
    public static final int RESP_SENSE_LEN_OFFSET = 0;
    public static final int RESP_RESID_OFFSET = 4;
    public static final int RESP_STATUS_QUALIFIER_OFFSET = 8;
    public static final int RESP_STATUS_OFFSET = 10;
    public static final int RESP_RESPONSE_OFFSET = 11;
    public static final int RESP_SENSE_OFFSET = 12;

    // Control queue: every request starts with le32 type.
    public static final int CTRL_TYPE_OFFSET = 0;
    public static final int CTRL_TYPE_LENGTH = 4;

    // struct virtio_scsi_ctrl_tmf: le32 type, le32 subtype, lun[8], le64 id; response: u8 response.
    public static final int TMF_TYPE_OFFSET = 0;
    public static final int TMF_SUBTYPE_OFFSET = 4;
    public static final int TMF_LUN_OFFSET = 8;
    public static final int TMF_ID_OFFSET = 16;
    public static final int TMF_REQ_LENGTH = 24;
    public static final int TMF_RESPONSE_OFFSET = 0;
    public static final int TMF_RESP_LENGTH = 1;

    // struct virtio_scsi_ctrl_an: le32 type, lun[8], le32 event_requested; response: le32 event_actual, u8 response.
    public static final int AN_TYPE_OFFSET = 0;
    public static final int AN_LUN_OFFSET = 4;
    public static final int AN_EVENT_REQUESTED_OFFSET = 12;
    public static final int AN_REQ_LENGTH = 16;
    public static final int AN_EVENT_ACTUAL_OFFSET = 0;
    public static final int AN_RESPONSE_OFFSET = 4;
    public static final int AN_RESP_LENGTH = 5;

    // struct virtio_scsi_event: le32 event, lun[8], le32 reason.
    public static final int EVENT_EVENT_OFFSET = 0;
    public static final int EVENT_LUN_OFFSET = 4;
    public static final int EVENT_REASON_OFFSET = 12;
    public static final int EVENT_LENGTH = 16;

    // struct virtio_scsi_config.
    public static final int CFG_NUM_QUEUES_OFFSET = 0;
    public static final int CFG_SEG_MAX_OFFSET = 4;
    public static final int CFG_MAX_SECTORS_OFFSET = 8;
    public static final int CFG_CMD_PER_LUN_OFFSET = 12;
    public static final int CFG_EVENT_INFO_SIZE_OFFSET = 16;
    public static final int CFG_SENSE_SIZE_OFFSET = 20;
    public static final int CFG_CDB_SIZE_OFFSET = 24;
    public static final int CFG_MAX_CHANNEL_OFFSET = 28;
    public static final int CFG_MAX_TARGET_OFFSET = 30;
    public static final int CFG_MAX_LUN_OFFSET = 32;
    public static final int CFG_LENGTH = 36;

    private ScsiDescriptor()
    {
    }

    /** Length of the command request header for a given cdb_size. */
    public static int cmdReqLength(final int cdbSize)
    {
        return CMD_CDB_OFFSET + cdbSize;
    }

    /** Length of the command response for a given sense_size. */
    public static int cmdRespLength(final int senseSize)
    {
        return RESP_SENSE_OFFSET + senseSize;
    }
}
