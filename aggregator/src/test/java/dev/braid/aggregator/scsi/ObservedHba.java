package dev.braid.aggregator.scsi;

import dev.braid.sim.CardFault;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.scsi.SimHba;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ForwardingScsiCard;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A scsi path seen through a test probe: a {@link SimHba}, or a {@code BlockScsiCard} over a sim
 * block card. It logs every TMF the aggregator sends and tracks which task tags the path holds
 * (submitted, not yet completed through the sink). The path does real work; this only watches, so the
 * ABORT TASK routing test can ask "which card holds tag t" and "which cards got a TMF", which a real
 * HBA does not answer. Single-threaded (deterministic scheduler) only.
 */
final class ObservedHba extends ForwardingScsiCard
{
    /** The HBA, or null when the path is a block card's. */
    final SimHba hba;
    final List<String> tmfLog = new ArrayList<>();
    private final ScsiCard card;
    private final FaultTarget faults;
    private final Map<Long, Long> tagsByToken = new HashMap<>();
    private final Map<Long, CompletionSink> sinksByToken = new HashMap<>();
    private final CompletionSink observer = this::onComplete;
    private long commands;

    ObservedHba(final SimHba hba)
    {
        this(hba, hba);
    }

    /** {@code faults}: where {@link #failStop} injects (the HBA, or the block card under the path). */
    ObservedHba(final ScsiCard card, final FaultTarget faults)
    {
        super(card);
        this.card = card;
        this.hba = card instanceof SimHba ? (SimHba)card : null;
        this.faults = faults;
    }

    public boolean submit(final int queue, final ScsiIo io, final long token, final CompletionSink sink)
    {
        // Recorded first: a block card may complete inside submit (an answer the emulator had at once is not).
        tagsByToken.put(token, io.tag());
        sinksByToken.put(token, sink);
        if (!card.submit(queue, io, token, observer))
        {
            tagsByToken.remove(token);
            sinksByToken.remove(token);
            return false;
        }
        commands++;
        return true;
    }

    public boolean taskManagement(
        final int queue, final int function, final int target, final int lun, final long tag, final long token,
        final CompletionSink sink)
    {
        final boolean accepted = card.taskManagement(queue, function, target, lun, tag, token, sink);
        if (accepted)
        {
            tmfLog.add(function + ":" + tag);
        }
        return accepted;
    }

    /** Whether a command with {@code tag} is on this card, not yet completed. */
    boolean holds(final long tag)
    {
        return tagsByToken.containsValue(tag);
    }

    int pendingCount()
    {
        return tagsByToken.size();
    }

    long commands()
    {
        return commands;
    }

    void failStop()
    {
        faults.inject(CardFault.FAIL_STOP, 0);
    }

    private boolean onComplete(final long token, final int status, final int length)
    {
        final CompletionSink sink = sinksByToken.get(token);
        if (sink == null || !sink.complete(token, status, length))
        {
            return sink == null;
        }
        sinksByToken.remove(token);
        tagsByToken.remove(token);
        return true;
    }
}
