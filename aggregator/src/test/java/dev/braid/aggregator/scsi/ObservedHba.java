package dev.braid.aggregator.scsi;

import dev.braid.sim.CardFault;
import dev.braid.sim.scsi.SimHba;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ForwardingScsiCard;
import dev.braid.virtio.card.ScsiIo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link SimHba} seen through a test probe: logs every TMF the aggregator sends it and tracks
 * which task tags it holds (submitted, not yet completed through the sink). SimHba does real work;
 * this only watches, so the ABORT TASK routing test can ask "which card holds tag t" and "which cards
 * got a TMF", which a real HBA does not answer. Single-threaded (deterministic scheduler) only.
 */
final class ObservedHba extends ForwardingScsiCard
{
    final SimHba hba;
    final List<String> tmfLog = new ArrayList<>();
    private final Map<Long, Long> tagsByToken = new HashMap<>();
    private final Map<Long, CompletionSink> sinksByToken = new HashMap<>();
    private final CompletionSink observer = this::onComplete;

    ObservedHba(final SimHba hba)
    {
        super(hba);
        this.hba = hba;
    }

    public boolean submit(final int queue, final ScsiIo io, final long token, final CompletionSink sink)
    {
        // Recorded first: SimHba only completes from poll, but the maps must be right if it ever did so inline.
        tagsByToken.put(token, io.tag());
        sinksByToken.put(token, sink);
        if (!hba.submit(queue, io, token, observer))
        {
            tagsByToken.remove(token);
            sinksByToken.remove(token);
            return false;
        }
        return true;
    }

    public boolean taskManagement(
        final int queue, final int function, final int target, final int lun, final long tag, final long token,
        final CompletionSink sink)
    {
        final boolean accepted = hba.taskManagement(queue, function, target, lun, tag, token, sink);
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
        int n = 0;
        for (int q = 0; q < hba.queueCount(); q++)
        {
            n += hba.inFlight(q);
        }
        return n;
    }

    long commands()
    {
        return hba.commandsSubmitted();
    }

    void failStop()
    {
        hba.inject(CardFault.FAIL_STOP, 0);
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
