package dev.braid.virtio.scsi;

/** virtio-scsi constants (virtio 1.x, "SCSI Host Device"), named as in the spec. */
public final class VirtioScsi
{
    public static final int VIRTIO_ID_SCSI = 8;

    // Feature bits.
    public static final int VIRTIO_SCSI_F_INOUT = 0;
    public static final int VIRTIO_SCSI_F_HOTPLUG = 1;
    public static final int VIRTIO_SCSI_F_CHANGE = 2;
    public static final int VIRTIO_SCSI_F_T10_PI = 3;

    // Response codes (cmd, TMF and AN responses).
    public static final int VIRTIO_SCSI_S_OK = 0;
    public static final int VIRTIO_SCSI_S_OVERRUN = 1;
    public static final int VIRTIO_SCSI_S_ABORTED = 2;
    public static final int VIRTIO_SCSI_S_BAD_TARGET = 3;
    public static final int VIRTIO_SCSI_S_RESET = 4;
    public static final int VIRTIO_SCSI_S_BUSY = 5;
    public static final int VIRTIO_SCSI_S_TRANSPORT_FAILURE = 6;
    public static final int VIRTIO_SCSI_S_TARGET_FAILURE = 7;
    public static final int VIRTIO_SCSI_S_NEXUS_FAILURE = 8;
    public static final int VIRTIO_SCSI_S_FAILURE = 9;
    public static final int VIRTIO_SCSI_S_FUNCTION_SUCCEEDED = 10;
    public static final int VIRTIO_SCSI_S_FUNCTION_REJECTED = 11;
    public static final int VIRTIO_SCSI_S_INCORRECT_LUN = 12;

    // Task attributes.
    public static final int VIRTIO_SCSI_S_SIMPLE = 0;
    public static final int VIRTIO_SCSI_S_ORDERED = 1;
    public static final int VIRTIO_SCSI_S_HEAD = 2;
    public static final int VIRTIO_SCSI_S_ACA = 3;

    // Control queue request types.
    public static final int VIRTIO_SCSI_T_TMF = 0;
    public static final int VIRTIO_SCSI_T_AN_QUERY = 1;
    public static final int VIRTIO_SCSI_T_AN_SUBSCRIBE = 2;

    // TMF subtypes.
    public static final int VIRTIO_SCSI_T_TMF_ABORT_TASK = 0;
    public static final int VIRTIO_SCSI_T_TMF_ABORT_TASK_SET = 1;
    public static final int VIRTIO_SCSI_T_TMF_CLEAR_ACA = 2;
    public static final int VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET = 3;
    public static final int VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET = 4;
    public static final int VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET = 5;
    public static final int VIRTIO_SCSI_T_TMF_QUERY_TASK = 6;
    public static final int VIRTIO_SCSI_T_TMF_QUERY_TASK_SET = 7;

    // Events (event queue) and their reasons.
    public static final int VIRTIO_SCSI_T_NO_EVENT = 0;
    public static final int VIRTIO_SCSI_T_TRANSPORT_RESET = 1;
    public static final int VIRTIO_SCSI_T_ASYNC_NOTIFY = 2;
    public static final int VIRTIO_SCSI_T_PARAM_CHANGE = 3;
    public static final int VIRTIO_SCSI_T_EVENTS_MISSED = 0x8000_0000;
    public static final int VIRTIO_SCSI_EVT_RESET_HARD = 0;
    public static final int VIRTIO_SCSI_EVT_RESET_RESCAN = 1;
    public static final int VIRTIO_SCSI_EVT_RESET_REMOVED = 2;

    // Asynchronous notification event classes (bit masks).
    public static final int VIRTIO_SCSI_EVT_ASYNC_OPERATIONAL_CHANGE = 2;
    public static final int VIRTIO_SCSI_EVT_ASYNC_POWER_MGMT = 4;
    public static final int VIRTIO_SCSI_EVT_ASYNC_EXTERNAL_REQUEST = 8;
    public static final int VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE = 16;
    public static final int VIRTIO_SCSI_EVT_ASYNC_MULTI_HOST = 32;
    public static final int VIRTIO_SCSI_EVT_ASYNC_DEVICE_BUSY = 64;

    /** Defaults of the config space (the Linux driver's expectations). */
    public static final int VIRTIO_SCSI_CDB_DEFAULT_SIZE = 32;
    public static final int VIRTIO_SCSI_SENSE_DEFAULT_SIZE = 96;

    /** Largest cdb_size / sense_size Braid accepts from a driver (it sizes per-request buffers). */
    public static final int MAX_CDB_SIZE = 256;
    public static final int MAX_SENSE_SIZE = 256;

    private VirtioScsi()
    {
    }

    public static boolean isValidResponse(final int response)
    {
        return response >= VIRTIO_SCSI_S_OK && response <= VIRTIO_SCSI_S_INCORRECT_LUN;
    }
}
