package dev.braid.aggregator.scsi;

import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.scsi.VirtioScsi;

/**
 * How a {@link dev.braid.virtio.card.ScsiCard} completion is read: what the LUN answered, and what
 * only the path (card, fabric) failed at.
 *
 * <p>A scsi card completes with a packed result ({@link ScsiIo#packResult}): SCSI status, virtio
 * response and sense length. Besides those, the aggregator's own {@link
 * dev.braid.aggregator.CardWorker} answers {@link CardStatus#CANCELLED} for a request it did not
 * start on a fenced card, and a generic card may answer {@link CardStatus#IO_ERROR}. Both are odd
 * numbers with a zero response byte; SAM status codes are all even (bit 0 is reserved), so neither
 * can be mistaken for a status the LUN returned.
 *
 * <p>A transport failure, which is replayed on another card, is one of: those two raw codes; the
 * response TRANSPORT_FAILURE (the path failed); the response RESET (the card reset or fenced the
 * nexus under the command). Everything else is the LUN's answer and goes to the guest as it is:
 * GOOD, CHECK CONDITION with its sense, BUSY, TARGET_FAILURE (the target is shared by every path:
 * another path would fail the same way, as dm-multipath also decides), NEXUS_FAILURE, ABORTED
 * (ABORT TASK, which the guest asked for). The status alone cannot tell a card's own reset from one
 * the guest asked for: the task table can, and {@link ScsiRequestHandler} answers a RESET for a task
 * the guest's LUN or nexus reset ended instead of replaying it.
 */
public final class ScsiResult
{
    /** What a command ABORT TASK ended before any card started it completes with. */
    public static final int ABORTED = ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_ABORTED, 0);
    /** What a command a LUN or I_T nexus reset ended before any card started it completes with. */
    public static final int RESET = ScsiIo.packResult(0, VirtioScsi.VIRTIO_SCSI_S_RESET, 0);

    private ScsiResult()
    {
    }

    /** Whether {@code status} is a raw {@link CardStatus} code rather than a packed SCSI result. */
    public static boolean isRawCardStatus(final int status)
    {
        return status == CardStatus.CANCELLED || status == CardStatus.IO_ERROR;
    }

    /** The result for a command a TMF ended, from the virtio response the task table gives. */
    public static int ended(final int virtioResponse)
    {
        return virtioResponse == VirtioScsi.VIRTIO_SCSI_S_RESET ? RESET : ABORTED;
    }

    /**
     * Whether the command was cut short before the LUN answered it: a transport failure (RESET
     * included), or ABORTED by the card.
     */
    public static boolean isCutShort(final int status)
    {
        return isTransportFailure(status) || ScsiIo.response(status) == VirtioScsi.VIRTIO_SCSI_S_ABORTED;
    }

    /** Whether the command failed on its path only, so that another card may run it. */
    public static boolean isTransportFailure(final int status)
    {
        if (isRawCardStatus(status))
        {
            return true;
        }
        final int response = ScsiIo.response(status);
        return response == VirtioScsi.VIRTIO_SCSI_S_TRANSPORT_FAILURE || response == VirtioScsi.VIRTIO_SCSI_S_RESET;
    }
}
