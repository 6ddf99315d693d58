package dev.braid.aggregator.scsi;

import dev.braid.aggregator.ControlHandler;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ScsiCard;

/**
 * Carries task management functions from the control queue to a card, on the card worker's thread
 * (the card SPI allows one thread per card queue): the scsi device's own control channel, beside
 * the probe channel, through each card's control ring to card queue 0.
 *
 * <p>A relay slot's fields are written by the control queue before it offers the slot's token; the
 * ring hand-off orders them before the worker reads them. The card answers through its gate, as for
 * any request, into this relay's completion ring, which only the control queue drains: TMF answers
 * never reach a front queue. An answer arrives as {@link #ANSWERED} | the virtio-scsi response, so
 * that the worker's own cancel (a TMF never started, the card being fenced) is not taken for one.
 */
public final class ScsiTmfRelay implements ControlHandler<ScsiCard>
{
    /** Bit set in the status of a card's answer; the low byte is the virtio-scsi TMF response. */
    public static final int ANSWERED = 0x100;

    private final int[] function;
    private final int[] target;
    private final int[] lun;
    private final long[] tag;
    private final AnswerSink[] sinks;
    private final ManyToOneCompletionRing completions;

    public ScsiTmfRelay(final int slots)
    {
        if (slots <= 0 || slots > 1 << 16)
        {
            throw new IllegalArgumentException("relay slots must be 1.." + (1 << 16) + ": " + slots);
        }
        function = new int[slots];
        target = new int[slots];
        lun = new int[slots];
        tag = new long[slots];
        sinks = new AnswerSink[slots];
        for (int i = 0; i < slots; i++)
        {
            sinks[i] = new AnswerSink();
        }
        int capacity = 64;
        while (capacity < slots * 4)
        {
            capacity <<= 1;
        }
        completions = new ManyToOneCompletionRing(capacity);
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
    public boolean submit(final ScsiCard card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        final AnswerSink answerSink = sinks[slot];
        answerSink.downstream = sink;
        return card.taskManagement(cardQueue, function[slot], target[slot], lun[slot], tag[slot], token, answerSink);
    }

    /** Where answers arrive (through the cards' gates), drained by the control queue. */
    public ManyToOneCompletionRing completions()
    {
        return completions;
    }

    /** Whether {@code status} from {@link #completions()} is a card's answer (else the worker's cancel). */
    public static boolean isAnswer(final int status)
    {
        return (status & ANSWERED) != 0;
    }

    /** The virtio-scsi TMF response of an answer. */
    public static int response(final int status)
    {
        return status & 0xFF;
    }

    /** Marks a card's TMF response as an answer on its way to the slot's gate. */
    private static final class AnswerSink implements CompletionSink
    {
        // Written by the card worker before the TMF is submitted; the card's hand-off orders it.
        private volatile CompletionSink downstream;

        public boolean complete(final long token, final int status, final int length)
        {
            return downstream.complete(token, ANSWERED | (status & 0xFF), length);
        }
    }
}
