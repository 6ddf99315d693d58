package dev.braid.aggregator;

import dev.braid.aggregator.scsi.ScsiTmfRelay;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.queue.DescriptorChain;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Task management travels its own control channel (the card's control ring, card queue 0) and its
 * answers pass the card's {@link CompletionGate} like any report: one given after the fence is dropped.
 */
class ControlChannelTest
{
    private static final int TMF_CHANNEL = 2; // guest queue 0, probe channel 1, then the relay

    /** An HBA that keeps the sink and token of every TMF, to answer whenever the test says. */
    static final class HeldTmfHba implements ScsiCard
    {
        final List<CompletionSink> sinks = new ArrayList<>();
        final List<Long> tokens = new ArrayList<>();
        final List<Integer> queues = new ArrayList<>();

        public boolean submit(final int queue, final ScsiIo io, final long token, final CompletionSink sink)
        {
            return true;
        }

        public boolean taskManagement(
            final int queue, final int function, final int target, final int lun, final long tag, final long token,
            final CompletionSink sink)
        {
            queues.add(queue);
            sinks.add(sink);
            tokens.add(token);
            return true;
        }

        public String name()
        {
            return "held";
        }

        public int queueCount()
        {
            return 2;
        }

        public int queueDepth()
        {
            return 8;
        }

        public int poll(final int queue)
        {
            return 0;
        }

        public void fence()
        {
        }

        public void unfence()
        {
        }

        public boolean isLinkUp()
        {
            return true;
        }

        public void setEventListener(final CardEventListener listener)
        {
        }
    }

    /** A guest queue whose requests never reach a card. */
    static final class LocalHandler extends LocalRequestHandler<ScsiCard>
    {
        public int prepare(final int slot, final DescriptorChain chain)
        {
            return 0;
        }
    }

    private final HeldTmfHba hba = new HeldTmfHba();
    private final ScsiTmfRelay relay = new ScsiTmfRelay(4);
    private final ManyToOneCompletionRing probeAnswers = new ManyToOneCompletionRing(64);
    private final DeviceCompletionSink sink = new DeviceCompletionSink(
        new ManyToOneCompletionRing[]{new ManyToOneCompletionRing(64), probeAnswers, relay.completions()});
    private final CardPort<ScsiCard> port = new CardPort<>(0, hba, 64, sink);
    @SuppressWarnings("unchecked")
    private final CardWorker<ScsiCard> worker0 = new CardWorker<>(port, 0, new RequestHandler[]{new LocalHandler()},
        new ControlHandler[]{(card, queue, slot, token, s) -> true, relay}, sink, 64, 16, 0);
    @SuppressWarnings("unchecked")
    private final CardWorker<ScsiCard> worker1 = new CardWorker<>(port, 1, new RequestHandler[]{new LocalHandler()},
        new ControlHandler[]{(card, queue, slot, token, s) -> true, relay}, sink, 64, 16, 0);
    private final List<long[]> answers = new ArrayList<>();

    private int drainAnswers()
    {
        return relay.completions().drain((token, status, length) -> answers.add(new long[]{token, status}), 64);
    }

    private long sendTmf(final int slot)
    {
        relay.set(slot, ScsiCard.TMF_ABORT_TASK, 0, 0, 7);
        final long token = CompletionToken.encode(TMF_CHANNEL, slot, port.fenceGeneration(), 1);
        assertTrue(port.controlRing().offer(token));
        return token;
    }

    @Test
    void aTmfGoesToCardQueueZeroAndItsAnswerIsMarked()
    {
        final long token = sendTmf(3);
        worker1.doWork();
        assertEquals(0, hba.tokens.size(), "only the worker of card queue 0 serves the control ring");
        worker0.doWork();
        assertEquals(List.of(0), hba.queues);
        assertEquals(token, hba.tokens.get(0));

        assertTrue(hba.sinks.get(0).complete(token, 5, 0));
        assertEquals(1, drainAnswers());
        assertEquals(token, answers.get(0)[0]);
        assertTrue(ScsiTmfRelay.isAnswer((int)answers.get(0)[1]));
        assertEquals(5, ScsiTmfRelay.response((int)answers.get(0)[1]));
        assertEquals(0, probeAnswers.drain((t, s, l) -> {}, 64), "nothing reaches the probe channel");
    }

    @Test
    void aTmfAnswerGivenAfterTheFenceIsDropped()
    {
        final long token = sendTmf(1);
        worker0.doWork();
        port.fence();
        // The card answers late, into the sink it was given: the closed gate drops it.
        assertTrue(hba.sinks.get(0).complete(token, 0, 0));
        assertEquals(0, drainAnswers());
        assertEquals(1, port.gateDropped());
    }

    @Test
    void aTmfRefusedByAFencedCardComesBackAsTheWorkersCancelNotAnAnswer()
    {
        port.fence();
        sendTmf(2);
        worker0.doWork();
        assertTrue(hba.tokens.isEmpty());
        assertEquals(1, drainAnswers());
        final int status = (int)answers.get(0)[1];
        assertEquals(CardStatus.CANCELLED, status);
        assertFalse(ScsiTmfRelay.isAnswer(status));
    }
}
