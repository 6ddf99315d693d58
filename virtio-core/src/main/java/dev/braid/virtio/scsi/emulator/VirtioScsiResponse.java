package dev.braid.virtio.scsi.emulator;

/**
 * Response codes of virtio-scsi (virtio 1.x, 5.6.6): the {@code response} byte of a command or TMF
 * completion. Values as in the spec and Linux {@code include/uapi/linux/virtio_scsi.h}.
 */
public final class VirtioScsiResponse
{
    public static final int OK = 0;
    /** The data-in buffer was too small for the data the device had. */
    public static final int OVERRUN = 1;
    /** The command was cancelled by ABORT TASK (or ABORT TASK SET). Linux: DID_ABORT, an I/O error. */
    public static final int ABORTED = 2;
    public static final int BAD_TARGET = 3;
    /**
     * The command was cancelled by a reset: a LUN or I_T nexus reset TMF, or the card's own reset or
     * fence. Linux: DID_RESET, which the SCSI midlayer retries.
     */
    public static final int RESET = 4;
    public static final int BUSY = 5;
    /** The path failed; the command may be retried on another path. */
    public static final int TRANSPORT_FAILURE = 6;
    public static final int TARGET_FAILURE = 7;
    public static final int NEXUS_FAILURE = 8;
    public static final int FAILURE = 9;

    /** TMF responses. */
    public static final int FUNCTION_COMPLETE = 0;
    public static final int FUNCTION_SUCCEEDED = 10;
    public static final int FUNCTION_REJECTED = 11;
    public static final int INCORRECT_LUN = 12;

    private VirtioScsiResponse()
    {
    }
}
