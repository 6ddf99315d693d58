package dev.braid.aggregator;

import dev.braid.mapper.ring.SubmissionHandler;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import org.agrona.concurrent.Agent;

/**
 * The agent that drives one card queue: it drains the queue's submission ring (and, on card queue
 * 0, the port's control ring), starts each request on the card, holds pulled buffers (net rx) until
 * data arrives, and polls the card for completions.
 *
 * <p>A request for a fenced card, or dispatched before the card's latest fence, is not started: it
 * is answered CANCELLED at once, so its front queue replays it elsewhere (or drops the answer as
 * stale). A full card queue keeps requests in a local backlog, in order.
 *
 * <p>The card is handed the port's current {@link CompletionGate}, not the device sink: what the
 * card reports after a fence closed that gate is dropped. The worker's own cancels are Braid's
 * word, not the card's, and go to the device sink directly.
 *
 * <p>Between duty cycles its thread may sleep in the card ({@link #canWaitInCard}, {@link #waitInCard}):
 * the thread's {@link CardWaitingIdleStrategy} decides when, never inside a cycle.
 */
public final class CardWorker<C extends Card> implements Agent, SubmissionHandler
{
    private final CardPort<C> port;
    private final C card;
    private final int cardQueue;
    private final PushHandler<? super C>[] push;
    private final PullHandler<? super C>[] pull;
    private final ControlHandler<? super C>[] controls;
    private final int firstControlChannel;
    private final CompletionSink sink;
    private CompletionSink gate;
    private final int batch;
    private final long waitNanos;

    private final long[] backlog;
    private int backlogHead;
    private int backlogTail;
    private final long[] pulls;
    private int pullHead;
    private int pullTail;
    private final long[] cancels;
    private int cancelHead;
    private int cancelTail;

    /**
     * @param handlers one per guest queue: the token's guest queue picks it.
     * @param controls one per control channel, whose ids follow the guest queues; served on card queue 0.
     * @param waitNanos the longest sleep in the card when its thread is idle (0: never sleeps there).
     */
    @SuppressWarnings("unchecked")
    public CardWorker(
        final CardPort<C> port, final int cardQueue, final RequestHandler<? super C>[] handlers,
        final ControlHandler<? super C>[] controls, final CompletionSink sink, final int capacity, final int batch,
        final long waitNanos)
    {
        this.port = port;
        this.card = port.card();
        this.cardQueue = cardQueue;
        this.push = (PushHandler<? super C>[])new PushHandler<?>[handlers.length];
        this.pull = (PullHandler<? super C>[])new PullHandler<?>[handlers.length];
        for (int g = 0; g < handlers.length; g++)
        {
            push[g] = handlers[g].asPush();
            pull[g] = handlers[g].asPull();
        }
        this.controls = controls.clone();
        this.firstControlChannel = handlers.length;
        this.sink = sink;
        this.gate = port.gate();
        this.batch = batch;
        this.waitNanos = waitNanos;
        int size = 1;
        while (size < capacity)
        {
            size <<= 1;
        }
        backlog = new long[size];
        pulls = new long[size];
        cancels = new long[size];
    }

    public String roleName()
    {
        return "braid-card-" + card.name() + "-q" + cardQueue;
    }

    public int doWork()
    {
        // Read before any submit of this cycle, acknowledged after the last: see CardPort.
        final int generation = port.fenceGeneration();
        // The card reports through the generation's gate, never to the device sink itself.
        gate = port.gate();
        int work = flushCancels();
        work += retryBacklog();
        if (backlogHead == backlogTail && cardQueue == 0)
        {
            work += port.controlRing().drain(this, batch);
        }
        if (backlogHead == backlogTail)
        {
            work += port.submissionRing(cardQueue).drain(this, batch);
        }
        work += servePulls();
        work += card.poll(cardQueue);
        port.ackFenceGeneration(cardQueue, generation);
        return work;
    }

    /**
     * Worker thread, between duty cycles: whether a submission, a control request or a cancel the
     * device sink refused is waiting for this worker's next cycle.
     */
    boolean hasQueuedWork()
    {
        return cancelHead != cancelTail || !port.submissionRing(cardQueue).isEmpty() ||
            (cardQueue == 0 && !port.controlRing().isEmpty());
    }

    /**
     * Worker thread, between duty cycles: whether its thread may sleep in the card now. Nothing queued
     * for the worker ({@link #hasQueuedWork}), no pulled buffer held, the card not fenced, and the card
     * has requests outstanding and nothing to report ({@link Card#canWait}). A backlog does not stop it:
     * the worker keeps one only while the card refuses (its queue is full), and only a completion, the
     * one the card would sleep for, frees a slot.
     */
    boolean canWaitInCard()
    {
        return waitNanos > 0 && pullHead == pullTail && !port.isFenced() && !hasQueuedWork() && card.canWait(cardQueue);
    }

    /** Worker thread, between duty cycles: sleeps in the card until its first completion or the wait; returns the work done. */
    int waitInCard()
    {
        return card.pollOrWait(cardQueue, waitNanos);
    }

    public void onSubmission(final long token)
    {
        if (!port.admits(token))
        {
            cancel(token);
            return;
        }
        final int guestQueue = CompletionToken.guestQueue(token);
        if (guestQueue < firstControlChannel && pull[guestQueue] != null)
        {
            pulls[pullTail++ & (pulls.length - 1)] = token;
            return;
        }
        if (!start(guestQueue, token))
        {
            backlog[backlogTail++ & (backlog.length - 1)] = token;
        }
    }

    /** Starts a push request or a control request on the card; false when the card queue is full. */
    private boolean start(final int guestQueue, final long token)
    {
        final int slot = CompletionToken.head(token);
        if (guestQueue >= firstControlChannel)
        {
            final int channel = guestQueue - firstControlChannel;
            if (channel >= controls.length)
            {
                cancel(token);
                return true;
            }
            return controls[channel].submit(card, cardQueue, slot, token, gate);
        }
        final PushHandler<? super C> handler = push[guestQueue];
        if (handler == null)
        {
            // A handler that answers its requests itself never dispatches one; refuse a stray token.
            cancel(token);
            return true;
        }
        return handler.submit(card, cardQueue, slot, token, gate);
    }

    private int retryBacklog()
    {
        int work = 0;
        while (backlogHead != backlogTail)
        {
            final long token = backlog[backlogHead & (backlog.length - 1)];
            if (!port.admits(token))
            {
                cancel(token);
            }
            else if (!start(CompletionToken.guestQueue(token), token))
            {
                break;
            }
            backlogHead++;
            work++;
        }
        return work;
    }

    private int servePulls()
    {
        int work = 0;
        while (pullHead != pullTail)
        {
            final long token = pulls[pullHead & (pulls.length - 1)];
            if (!port.admits(token))
            {
                cancel(token);
                pullHead++;
                work++;
                continue;
            }
            final int length = pull[CompletionToken.guestQueue(token)].receive(card, cardQueue, CompletionToken.head(token));
            if (length == 0)
            {
                break;
            }
            work++;
            if (length > 0)
            {
                pullHead++;
                if (!gate.complete(token, CardStatus.OK, length))
                {
                    // Completion ring full: the frame is dropped, as a NIC drops on overrun, and
                    // the buffer goes back to its front queue as cancelled, to be posted again.
                    cancel(token);
                }
            }
        }
        return work;
    }

    private void cancel(final long token)
    {
        if (!sink.complete(token, CardStatus.CANCELLED, 0))
        {
            cancels[cancelTail++ & (cancels.length - 1)] = token;
        }
    }

    private int flushCancels()
    {
        int work = 0;
        while (cancelHead != cancelTail)
        {
            final long token = cancels[cancelHead & (cancels.length - 1)];
            if (!sink.complete(token, CardStatus.CANCELLED, 0))
            {
                break;
            }
            cancelHead++;
            work++;
        }
        return work;
    }
}
