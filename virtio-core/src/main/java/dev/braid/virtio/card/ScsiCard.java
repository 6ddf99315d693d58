package dev.braid.virtio.card;

/**
 * An HBA path to a set of targets and LUNs. Every card of an aggregated scsi device reaches the
 * same LUNs (multipath).
 */
public interface ScsiCard extends Card
{
    int TMF_ABORT_TASK = 0;
    int TMF_LOGICAL_UNIT_RESET = 1;
    int TMF_I_T_NEXUS_RESET = 2;

    /** Executes {@code io}; completes with a packed result ({@link ScsiIo#packResult}) and data bytes moved. */
    boolean submit(int queue, ScsiIo io, long token, CompletionSink sink);

    /**
     * Task management. For ABORT_TASK, {@code tag} names the task; for a reset, every task on the
     * LUN (or nexus) is ended. A command the card ends for it completes with response ABORTED after
     * ABORT_TASK and RESET after a reset (virtio-scsi: RESET "if the request was cancelled due to a bus
     * or device reset (including a task management function)"); a card may also let it finish. The
     * TMF completes through {@code sink} with a virtio-scsi TMF response code.
     */
    boolean taskManagement(int queue, int function, int target, int lun, long tag, long token, CompletionSink sink);
}
