package dev.braid.aggregator.scsi;

import dev.braid.aggregator.ControlHandler;
import dev.braid.aggregator.ProbeSink;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.scsi.VirtioScsi;

/**
 * Probes a scsi card that is coming back with TEST UNIT READY to LUN 0 of target 0, in Braid's own
 * memory (no data, sense kept in the {@link ScsiIo}), never the guest's. Slot = card index. Task
 * management has a control channel of its own ({@link ScsiTmfRelay}).
 *
 * <p>A probe succeeds when the LUN answered at all (virtio response OK), whatever its SCSI status:
 * a UNIT ATTENTION after a reset says the path works. Its answer is reported to the control plane
 * as {@link CardStatus#OK} or {@link CardStatus#IO_ERROR}.
 */
public final class ScsiProbeHandler implements ControlHandler<ScsiCard>
{
    private final ScsiIo[] probes;
    private final ProbeSink[] sinks;

    public ScsiProbeHandler(final int maxCards)
    {
        final GuestMemory bounce = GuestMemory.allocate(64);
        probes = new ScsiIo[maxCards];
        sinks = new ProbeSink[maxCards];
        for (int card = 0; card < maxCards; card++)
        {
            final ScsiIo io = new ScsiIo(1);
            io.dataOut().reset(bounce);
            io.dataIn().reset(bounce);
            // TEST UNIT READY: opcode 0, six bytes, no data.
            io.set(0, 0, 0x7F00_0000_0000_0000L | card, 6);
            probes[card] = io;
            sinks[card] = new ProbeSink(ScsiProbeHandler::answered);
        }
    }

    public boolean submit(final ScsiCard card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        return card.submit(cardQueue, probes[slot], token, sinks[slot].to(sink));
    }

    /** Whether a probe's packed SCSI result says the LUN answered (virtio response OK), whatever its SCSI status. */
    private static boolean answered(final int status)
    {
        return !ScsiResult.isRawCardStatus(status) && ScsiIo.response(status) == VirtioScsi.VIRTIO_SCSI_S_OK;
    }
}
