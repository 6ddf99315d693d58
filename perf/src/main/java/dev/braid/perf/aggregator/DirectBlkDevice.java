package dev.braid.perf.aggregator;

import dev.braid.aggregator.PushHandler;
import dev.braid.aggregator.RequestHandler;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;
import org.agrona.concurrent.Agent;

/**
 * The baseline without aggregation: one guest queue served by one card on one thread. Pop, parse
 * and gather (the same {@link RequestHandler} the aggregator uses, so both do identical virtio-blk
 * work), submit to the card with the head as the token, poll, write the status, publish used.
 * No in-flight table, no rings, no map, no health: what aggregation adds is the difference.
 */
public final class DirectBlkDevice implements Agent, CompletionSink
{
    private final DeviceQueue queue;
    private final PushHandler<BlockCard> handler;
    private final BlockCard card;
    private final DescriptorChain chain;
    private final int batch;
    private final int[] backlog;
    private int backlogHead;
    private int backlogTail;
    private boolean usedStaged;
    private long interrupts;

    public DirectBlkDevice(
        final DeviceQueue queue, final PushHandler<BlockCard> handler, final BlockCard card, final int queueSize,
        final int batch)
    {
        this.queue = queue;
        this.handler = handler;
        this.card = card;
        this.batch = batch;
        chain = new DescriptorChain(queueSize);
        int size = 1;
        while (size < queueSize)
        {
            size <<= 1;
        }
        backlog = new int[size];
    }

    public String roleName()
    {
        return "direct-blk";
    }

    public int doWork()
    {
        int work = 0;
        while (backlogHead != backlogTail)
        {
            final int head = backlog[backlogHead & (backlog.length - 1)];
            if (!handler.submit(card, 0, head, head, this))
            {
                break;
            }
            backlogHead++;
            work++;
        }
        while (work < batch && !queue.isBroken())
        {
            final int result = queue.pop(chain);
            if (result == ChainStatus.EMPTY)
            {
                break;
            }
            work++;
            if (result != ChainStatus.POPPED)
            {
                if (ChainStatus.isChainError(result))
                {
                    queue.addUsed(chain.id(), 0);
                    usedStaged = true;
                    continue;
                }
                break;
            }
            final int head = chain.id();
            final int prepared = handler.prepare(head, chain);
            if (prepared != RequestHandler.SUBMIT)
            {
                queue.addUsed(head, prepared);
                usedStaged = true;
                continue;
            }
            if (backlogHead != backlogTail || !handler.submit(card, 0, head, head, this))
            {
                backlog[backlogTail++ & (backlog.length - 1)] = head;
            }
        }
        work += card.poll(0);
        if (usedStaged)
        {
            usedStaged = false;
            queue.publishUsed();
            if (queue.needsInterrupt())
            {
                interrupts++;
            }
        }
        return work;
    }

    public boolean complete(final long token, final int status, final int length)
    {
        final int head = (int)token;
        queue.addUsed(head, Math.max(handler.complete(head, status, length), 0));
        usedStaged = true;
        return true;
    }

    public long interrupts()
    {
        return interrupts;
    }
}
