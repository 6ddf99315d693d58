package dev.braid.aggregator;

import dev.braid.mapper.ring.SubmissionHandler;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import org.agrona.concurrent.Agent;

/**
 * The agent that drives one card queue: it drains the queue's submission ring, starts each request
 * on the card, holds net rx buffers until frames arrive, and polls the card for completions.
 *
 * <p>A request for a fenced card, or dispatched before the card's latest fence, is not started: it
 * is answered CANCELLED at once, so its front queue replays it elsewhere (or drops the answer as
 * stale). A full card queue keeps requests in a local backlog, in order.
 *
 * <p>The card is handed the port's current {@link CompletionGate}, not the device sink: what the
 * card reports after a fence closed that gate is dropped. The worker's own cancels are Braid's
 * word, not the card's, and go to the device sink directly.
 */
public final class CardWorker implements Agent, SubmissionHandler
{
    private final CardPort port;
    private final Card card;
    private final int cardQueue;
    private final RequestHandler[] handlers;
    private final CompletionSink sink;
    private CompletionSink gate;
    private final int batch;

    private final long[] backlog;
    private int backlogHead;
    private int backlogTail;
    private final long[] pulls;
    private int pullHead;
    private int pullTail;
    private final long[] cancels;
    private int cancelHead;
    private int cancelTail;

    public CardWorker(
        final CardPort port, final int cardQueue, final RequestHandler[] handlers, final CompletionSink sink,
        final int capacity, final int batch)
    {
        this.port = port;
        this.card = port.card();
        this.cardQueue = cardQueue;
        this.handlers = handlers;
        this.sink = sink;
        this.gate = port.gate();
        this.batch = batch;
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
        if (backlogHead == backlogTail)
        {
            work += port.submissionRing(cardQueue).drain(this, batch);
        }
        work += servePulls();
        work += card.poll(cardQueue);
        port.ackFenceGeneration(cardQueue, generation);
        return work;
    }

    public void onSubmission(final long token)
    {
        if (!port.admits(token))
        {
            cancel(token);
            return;
        }
        final RequestHandler handler = handlers[CompletionToken.guestQueue(token)];
        if (handler.isPull())
        {
            pulls[pullTail++ & (pulls.length - 1)] = token;
            return;
        }
        if (!handler.submit(card, cardQueue, CompletionToken.head(token), token, gate))
        {
            backlog[backlogTail++ & (backlog.length - 1)] = token;
        }
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
            else if (!handlers[CompletionToken.guestQueue(token)]
                .submit(card, cardQueue, CompletionToken.head(token), token, gate))
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
            final int length = handlers[CompletionToken.guestQueue(token)]
                .receive(card, cardQueue, CompletionToken.head(token));
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
