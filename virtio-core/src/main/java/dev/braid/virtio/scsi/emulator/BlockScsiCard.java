package dev.braid.virtio.scsi.emulator;

import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.card.BlockIo;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CardEventListener;
import dev.braid.virtio.card.CardStatus;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HBA path made of a block card: target 0, LUN 0 is a {@link ScsiDiskEmulator} whose medium is
 * the block card. A CDB the emulator answers alone (INQUIRY, READ CAPACITY, MODE SENSE, REPORT
 * LUNS, a bad field) is answered in {@code submit} and reported at the next {@link #poll}; READ,
 * WRITE, SYNCHRONIZE CACHE and UNMAP become one block request (READ/WRITE, FLUSH, DISCARD) on the
 * same queue index, over the command's own data segments, so the block card moves the bytes
 * straight between its medium and guest memory. The emulator should allow one UNMAP descriptor
 * ({@link ScsiDiskEmulator#forBlockMedium}).
 *
 * <p>Fence: the SCSI card's fence is the block card's. {@link #fence()} stops new submissions,
 * waits for a {@code submit} in progress on a worker thread (it may be copying emulator data into
 * guest memory), then calls the block card's {@code fence()}: when it returns, no request of this
 * card can touch guest memory. A block completion is translated ({@link ScsiDiskEmulator#completeMedium})
 * and handed on in the same call, so a cancel is reported as RESET (a path failure) through the
 * sink the aggregator gave, whose gate decides.
 *
 * <p>TMFs: a block request cannot be recalled, so ABORT TASK and the resets answer FUNCTION COMPLETE
 * once every matching command that was on the block card when the TMF arrived has completed
 * (those complete normally, before the TMF's answer); a block card that never answers leaves the
 * TMF to the aggregator's TMF timeout. This card itself never answers ABORTED or RESET for a TMF:
 * a command a TMF ended that comes back cut short (the fence's RESET, a path failure) is answered by
 * the aggregator from its task table, ABORTED after ABORT TASK and RESET after a reset.
 * Threading as {@link Card}: one worker per queue; block completions may come from any thread.
 */
public final class BlockScsiCard implements ScsiCard
{
    /** Data segments one command may have: the aggregator's seg_max plus slack. */
    public static final int MAX_SEGMENTS = 256;

    private static final int FREE = 0;
    private static final int ON_MEDIUM = 1;
    private static final int ANSWERED = 2;

    private final BlockCard block;
    private final ScsiDiskEmulator emulator;
    private final ScsiTarget target;
    private final Queue[] queues;
    private final AtomicIntegerArray busy;
    private final AtomicLong sequence = new AtomicLong();
    private volatile boolean fenced;

    public BlockScsiCard(final BlockCard block, final ScsiDiskEmulator emulator)
    {
        if (emulator.capacityBlocks() > block.capacitySectors())
        {
            throw new IllegalArgumentException("LUN of " + emulator.capacityBlocks() + " blocks larger than card " +
                block.name() + " (" + block.capacitySectors() + " sectors)");
        }
        this.block = block;
        this.emulator = emulator;
        this.target = new ScsiTarget(emulator);
        this.queues = new Queue[block.queueCount()];
        for (int q = 0; q < queues.length; q++)
        {
            queues[q] = new Queue(q, block.queueDepth());
        }
        this.busy = new AtomicIntegerArray(queues.length);
    }

    public BlockCard blockCard()
    {
        return block;
    }

    public ScsiDiskEmulator emulator()
    {
        return emulator;
    }

    public String name()
    {
        return block.name();
    }

    public int queueCount()
    {
        return queues.length;
    }

    public int queueDepth()
    {
        return block.queueDepth();
    }

    public boolean submit(final int queue, final ScsiIo io, final long token, final CompletionSink sink)
    {
        if (queue < 0 || queue >= queues.length)
        {
            return false;
        }
        busy.set(queue, 1);
        try
        {
            if (fenced)
            {
                return false;
            }
            return queues[queue].submit(io, token, sink);
        }
        finally
        {
            busy.set(queue, 0);
        }
    }

    public boolean taskManagement(
        final int queue, final int function, final int target, final int lun, final long tag, final long token,
        final CompletionSink sink)
    {
        if (queue < 0 || queue >= queues.length || fenced)
        {
            return false;
        }
        final int response;
        if (function != TMF_ABORT_TASK && function != TMF_LOGICAL_UNIT_RESET && function != TMF_I_T_NEXUS_RESET)
        {
            response = VirtioScsiResponse.FUNCTION_REJECTED;
        }
        else if (target != 0)
        {
            response = VirtioScsiResponse.BAD_TARGET;
        }
        else if (function != TMF_I_T_NEXUS_RESET && !this.target.hasLun(lun))
        {
            response = VirtioScsiResponse.INCORRECT_LUN;
        }
        else
        {
            response = -1;
        }
        return queues[queue].addTmf(function, tag, sequence.get(), token, sink, response);
    }

    public int poll(final int queue)
    {
        if (queue < 0 || queue >= queues.length)
        {
            return 0;
        }
        return block.poll(queue) + queues[queue].deliver();
    }

    /** The block card's wait, when this queue has no emulator answer or TMF of its own to report. */
    public boolean canWait(final int queue)
    {
        return queue >= 0 && queue < queues.length && queues[queue].nothingToDeliver() && block.canWait(queue);
    }

    public int pollOrWait(final int queue, final long timeoutNanos)
    {
        if (queue < 0 || queue >= queues.length)
        {
            return 0;
        }
        return block.pollOrWait(queue, timeoutNanos) + queues[queue].deliver();
    }

    public void fence()
    {
        stopSubmissions();
        block.fence();
    }

    public void beginFence()
    {
        stopSubmissions();
        block.beginFence();
    }

    public boolean isFenceComplete()
    {
        return block.isFenceComplete();
    }

    private void stopSubmissions()
    {
        fenced = true;
        for (int q = 0; q < queues.length; q++)
        {
            while (busy.get(q) != 0)
            {
                Thread.onSpinWait();
            }
        }
    }

    public void unfence()
    {
        block.unfence();
        fenced = false;
    }

    public boolean isLinkUp()
    {
        return block.isLinkUp();
    }

    public void setEventListener(final CardEventListener listener)
    {
        final Card self = this;
        block.setEventListener(listener == null ? null : new CardEventListener()
        {
            public void onLinkChange(final Card card, final boolean up)
            {
                listener.onLinkChange(self, up);
            }

            public void onCardError(final Card card, final int code)
            {
                listener.onCardError(self, code);
            }
        });
    }

    /** Commands waiting on the block card, every queue (tests, stats). */
    public int onMedium()
    {
        int sum = 0;
        for (final Queue q : queues)
        {
            for (int s = 0; s < q.depth; s++)
            {
                sum += q.state.get(s) == ON_MEDIUM ? 1 : 0;
            }
        }
        return sum;
    }

    /** Whether a command matching the TMF and submitted before {@code before} is still on the block card. */
    private boolean anyOnMedium(final int function, final long tag, final long before)
    {
        for (final Queue q : queues)
        {
            for (int s = 0; s < q.depth; s++)
            {
                if (q.state.get(s) == ON_MEDIUM && q.seq[s] < before &&
                    (function != TMF_ABORT_TASK || q.tags[s] == tag))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /** One queue: slots (a command each), answered commands waiting for poll, and pending TMFs. */
    private final class Queue
    {
        final int index;
        final int depth;
        final AtomicIntegerArray state;
        final ScsiIo[] ios;
        final ScsiContext[] contexts;
        final BlockIo[] blockIos;
        final long[] tokens;
        final CompletionSink[] sinks;
        final int[] results;
        final long[] seq;
        final long[] tags;
        final int[] answered;
        final CompletionSink mediumSink;
        final int[] tmfFunctions;
        final long[] tmfTags;
        final long[] tmfBefore;
        final long[] tmfTokens;
        final CompletionSink[] tmfSinks;
        final int[] tmfResponses;
        int cursor;
        int answeredHead;
        int answeredCount;
        int tmfHead;
        int tmfCount;

        Queue(final int index, final int depth)
        {
            this.index = index;
            this.depth = depth;
            state = new AtomicIntegerArray(depth);
            ios = new ScsiIo[depth];
            contexts = new ScsiContext[depth];
            blockIos = new BlockIo[depth];
            for (int s = 0; s < depth; s++)
            {
                contexts[s] = new ScsiContext();
                blockIos[s] = new BlockIo(MAX_SEGMENTS);
            }
            tokens = new long[depth];
            sinks = new CompletionSink[depth];
            results = new int[depth];
            seq = new long[depth];
            tags = new long[depth];
            answered = new int[depth];
            mediumSink = this::onMediumDone;
            tmfFunctions = new int[depth];
            tmfTags = new long[depth];
            tmfBefore = new long[depth];
            tmfTokens = new long[depth];
            tmfSinks = new CompletionSink[depth];
            tmfResponses = new int[depth];
        }

        boolean submit(final ScsiIo io, final long token, final CompletionSink sink)
        {
            final int slot = freeSlot();
            if (slot < 0)
            {
                return false;
            }
            final ScsiContext context = contexts[slot];
            int result;
            if (io.target() != 0)
            {
                result = ScsiIo.packResult(0, VirtioScsiResponse.BAD_TARGET, 0);
                context.transferred = 0;
            }
            else
            {
                result = target.execute(io, context);
                if (result != ScsiDiskEmulator.MEDIUM && io.cdbLength() > 0 && io.cdb()[0] == ScsiConstants.TEST_UNIT_READY &&
                    !block.isLinkUp())
                {
                    // A probe must see the path, not only the emulator.
                    result = ScsiIo.packResult(0, VirtioScsiResponse.TRANSPORT_FAILURE, 0);
                }
            }
            ios[slot] = io;
            tokens[slot] = token;
            sinks[slot] = sink;
            tags[slot] = io.tag();
            if (result != ScsiDiskEmulator.MEDIUM)
            {
                results[slot] = result;
                state.set(slot, ANSWERED);
                answered[(answeredHead + answeredCount) % depth] = slot;
                answeredCount++;
                return true;
            }
            final BlockIo blockIo = blockIos[slot];
            if (!toBlockIo(io, context, blockIo))
            {
                results[slot] = ScsiDiskEmulator.completeMedium(io, context, CardStatus.INVALID);
                state.set(slot, ANSWERED);
                answered[(answeredHead + answeredCount) % depth] = slot;
                answeredCount++;
                return true;
            }
            seq[slot] = sequence.incrementAndGet();
            state.set(slot, ON_MEDIUM);
            if (!block.submit(index, blockIo, slot, mediumSink))
            {
                state.set(slot, FREE);
                ios[slot] = null;
                sinks[slot] = null;
                return false;
            }
            return true;
        }

        private int freeSlot()
        {
            for (int i = 0; i < depth; i++)
            {
                final int s = (cursor + i) % depth;
                if (state.get(s) == FREE)
                {
                    cursor = (s + 1) % depth;
                    return s;
                }
            }
            return -1;
        }

        /** The context's medium operation as a block request over the command's segments. */
        private boolean toBlockIo(final ScsiIo io, final ScsiContext context, final BlockIo blockIo)
        {
            final int operation = context.mediumOperation();
            if (operation == BlockIo.READ || operation == BlockIo.WRITE)
            {
                final IoVector from = operation == BlockIo.READ ? io.dataIn() : io.dataOut();
                final IoVector to = blockIo.data();
                to.reset(from.memory());
                long left = context.trimToBlocks();
                for (int i = 0; i < from.count() && left > 0; i++)
                {
                    final int length = (int)Math.min(from.length(i) & 0xFFFF_FFFFL, left);
                    if (!to.add(from.address(i), length))
                    {
                        return false;
                    }
                    left -= length;
                }
                if (to.totalLength() == 0)
                {
                    return false;
                }
                blockIo.set(operation, context.mediumLba());
                return true;
            }
            blockIo.data().reset(io.dataOut().memory());
            if (operation == BlockIo.DISCARD)
            {
                // One descriptor per UNMAP (forBlockMedium); its range is the whole request.
                blockIo.setRange(BlockIo.DISCARD, context.unmapLba(0), context.unmapBlocks(0));
                return context.unmapCount() == 1;
            }
            blockIo.setRange(BlockIo.FLUSH, context.mediumLba(), context.mediumBlocks());
            return true;
        }

        /** The block card's completion of slot {@code token}: translated and handed on in the same call. */
        private boolean onMediumDone(final long token, final int status, final int length)
        {
            final int slot = (int)token;
            if (slot < 0 || slot >= depth || state.get(slot) != ON_MEDIUM)
            {
                return true;
            }
            final ScsiContext context = contexts[slot];
            final int result = ScsiDiskEmulator.completeMedium(ios[slot], context, status);
            if (!sinks[slot].complete(tokens[slot], result, context.transferred()))
            {
                return false;
            }
            ios[slot] = null;
            sinks[slot] = null;
            state.set(slot, FREE);
            return true;
        }

        boolean addTmf(final int function, final long tag, final long before, final long token,
            final CompletionSink sink, final int response)
        {
            if (tmfCount == depth)
            {
                return false;
            }
            final int at = (tmfHead + tmfCount) % depth;
            tmfFunctions[at] = function;
            tmfTags[at] = tag;
            tmfBefore[at] = before + 1;
            tmfTokens[at] = token;
            tmfSinks[at] = sink;
            tmfResponses[at] = response;
            tmfCount++;
            return true;
        }

        /** Worker thread: no answered command and no TMF waiting in this queue. */
        boolean nothingToDeliver()
        {
            return answeredCount == 0 && tmfCount == 0;
        }

        int deliver()
        {
            int work = 0;
            while (answeredCount > 0)
            {
                final int slot = answered[answeredHead];
                final int result = fenced ? ScsiIo.packResult(0, VirtioScsiResponse.RESET, 0) : results[slot];
                final int length = fenced ? 0 : contexts[slot].transferred();
                if (!sinks[slot].complete(tokens[slot], result, length))
                {
                    break;
                }
                ios[slot] = null;
                sinks[slot] = null;
                state.set(slot, FREE);
                answeredHead = (answeredHead + 1) % depth;
                answeredCount--;
                work++;
            }
            while (tmfCount > 0)
            {
                final int at = tmfHead;
                final int response = tmfResponses[at] >= 0 ? tmfResponses[at] :
                    anyOnMedium(tmfFunctions[at], tmfTags[at], tmfBefore[at]) ? -1 : VirtioScsiResponse.FUNCTION_COMPLETE;
                if (response < 0 || !tmfSinks[at].complete(tmfTokens[at], response, 0))
                {
                    break;
                }
                tmfSinks[at] = null;
                tmfHead = (at + 1) % depth;
                tmfCount--;
                work++;
            }
            return work;
        }
    }
}
