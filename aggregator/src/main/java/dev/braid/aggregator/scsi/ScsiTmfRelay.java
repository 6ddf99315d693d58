package dev.braid.aggregator.scsi;

import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ScsiCard;

/**
 * Carries task management functions from the control queue to a card, on the card worker's thread:
 * the card SPI allows one thread per card queue, so a TMF travels the worker's submission ring like
 * a command does, in the device's control-plane slot (the probe slot; see {@link ScsiProbeHandler}).
 *
 * <p>A relay slot's fields are written by the control queue before it offers the slot's token; the
 * ring hand-off orders them before the worker reads them. The card answers into this relay's own
 * completion ring, which only the control queue drains: TMF answers never reach a front queue.
 * Tokens carry {@link #HEAD_BASE} | slot as their head, which no probe (head = card index) uses.
 */
public final class ScsiTmfRelay
{
    /** Head bit that marks a relay token in the control-plane slot. */
    public static final int HEAD_BASE = 0x8000;

    private final int[] function;
    private final int[] target;
    private final int[] lun;
    private final long[] tag;
    private final ManyToOneCompletionRing completions;
    private final CompletionSink sink;

    public ScsiTmfRelay(final int slots)
    {
        if (slots <= 0 || slots > HEAD_BASE)
        {
            throw new IllegalArgumentException("relay slots must be 1.." + HEAD_BASE + ": " + slots);
        }
        function = new int[slots];
        target = new int[slots];
        lun = new int[slots];
        tag = new long[slots];
        int capacity = 64;
        while (capacity < slots * 4)
        {
            capacity <<= 1;
        }
        completions = new ManyToOneCompletionRing(capacity);
        sink = completions::offer;
    }

    public int slots()
    {
        return function.length;
    }

    /** Fills a relay slot. Control queue thread, before the token is offered. */
    public void set(final int slot, final int function, final int target, final int lun, final long tag)
    {
        this.function[slot] = function;
        this.target[slot] = target;
        this.lun[slot] = lun;
        this.tag[slot] = tag;
    }

    /** Starts the slot's function on the card. Card worker thread; false when the card queue is full. */
    public boolean submit(final Card card, final int cardQueue, final int slot, final long token)
    {
        return ((ScsiCard)card).taskManagement(cardQueue, function[slot], target[slot], lun[slot], tag[slot], token, sink);
    }

    /** Where cards answer: a virtio-scsi TMF response code per token. Drained by the control queue. */
    public ManyToOneCompletionRing completions()
    {
        return completions;
    }
}
