package dev.braid.sim.scsi;

import dev.braid.sim.CardFault;
import dev.braid.sim.FencedSimCard;
import dev.braid.sim.InFlightSlots;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.FreeSlots;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.scsi.emulator.ScsiContext;
import dev.braid.virtio.scsi.emulator.VirtioScsiResponse;
import org.agrona.concurrent.NanoClock;

import java.util.concurrent.atomic.AtomicLong;

import static dev.braid.virtio.scsi.emulator.ScsiConstants.STATUS_GOOD;

/**
 * A simulated HBA: one path to targets 0..n-1, each with its LUNs, over emulators that every card of
 * the device shares (multipath). Commands run after a service latency, when {@link #poll} finds them
 * due: only then does the emulator move data, so a fence or abort that wins before that leaves guest
 * memory untouched.
 *
 * <p>Completion codes: a command's packed result; a command for a missing target completes with
 * {@link VirtioScsiResponse#BAD_TARGET}; one ended by ABORT TASK with {@link VirtioScsiResponse#ABORTED};
 * one ended by a LUN or I_T nexus reset, or cancelled by {@link #fence()}, with
 * {@link VirtioScsiResponse#RESET}; one failed by LINK_DOWN or ERROR_BURST with
 * {@link VirtioScsiResponse#TRANSPORT_FAILURE} (retry on another path). TMFs complete with
 * FUNCTION_COMPLETE (also when ABORT TASK finds no such task), BAD_TARGET for a missing target,
 * INCORRECT_LUN for a missing LUN on an existing target, or FUNCTION_REJECTED for an unknown function.
 */
public final class SimHba extends FencedSimCard implements ScsiCard
{
    private static final int ABORTED_RESULT = ScsiIo.packResult(0, VirtioScsiResponse.ABORTED, 0);
    private static final int RESET_RESULT = ScsiIo.packResult(0, VirtioScsiResponse.RESET, 0);

    private final NanoClock clock;
    private final SimTarget[] targets;
    private final long serviceLatencyNanos;
    private final Queue[] queues;
    private final AtomicLong commands = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    public SimHba(
        final String name,
        final NanoClock clock,
        final SimTarget[] targets,
        final int queueCount,
        final int queueDepth,
        final long serviceLatencyNanos)
    {
        super(name, clock, checkedSlots(queueCount, queueDepth, targets), queueDepth);
        this.clock = clock;
        this.targets = targets.clone();
        this.serviceLatencyNanos = serviceLatencyNanos;
        this.queues = new Queue[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            queues[i] = new Queue(slots(i), queueDepth);
        }
    }

    private static InFlightSlots[] checkedSlots(final int queueCount, final int queueDepth, final SimTarget[] targets)
    {
        if (queueCount < 1 || queueDepth < 1 || targets.length == 0)
        {
            throw new IllegalArgumentException("need at least one queue, one slot and one target");
        }
        return newSlots(queueCount, queueDepth);
    }

    public int targetCount()
    {
        return targets.length;
    }

    public SimTarget target(final int target)
    {
        return targets[target];
    }

    public boolean submit(final int queue, final ScsiIo io, final long token, final CompletionSink sink)
    {
        if (queue < 0 || queue >= queues.length || fence.isFenced() || !fault.accepts())
        {
            return false;
        }
        final Queue q = queues[queue];
        if (q.free.isEmpty())
        {
            return false;
        }
        final int slot = q.free.take();
        q.ios[slot] = io;
        q.targets[slot] = io.target();
        q.luns[slot] = io.lun();
        q.tags[slot] = io.tag();
        q.slots.arm(slot, token, sink, clock.nanoTime() + fault.latency(serviceLatencyNanos));
        fence.cancelIfFenced(q.slots, slot);
        commands.incrementAndGet();
        return true;
    }

    public boolean taskManagement(
        final int queue, final int function, final int target, final int lun, final long tag, final long token,
        final CompletionSink sink)
    {
        if (queue < 0 || queue >= queues.length || fence.isFenced() || !fault.accepts())
        {
            return false;
        }
        final Queue q = queues[queue];
        if (q.tmfCount == q.tmfTokens.length)
        {
            return false;
        }
        final int response;
        if (function != TMF_ABORT_TASK && function != TMF_LOGICAL_UNIT_RESET && function != TMF_I_T_NEXUS_RESET)
        {
            response = VirtioScsiResponse.FUNCTION_REJECTED;
        }
        else if (target < 0 || target >= targets.length)
        {
            response = VirtioScsiResponse.BAD_TARGET;
        }
        else if (function != TMF_I_T_NEXUS_RESET && !targets[target].hasLun(lun))
        {
            response = VirtioScsiResponse.INCORRECT_LUN;
        }
        else
        {
            for (final Queue other : queues)
            {
                endMatching(other, function, target, lun, tag);
            }
            // A task another queue thread already claimed finishes its DMA before we report the function done.
            for (int i = 0; i < queues.length; i++)
            {
                if (i != queue)
                {
                    queues[i].slots.awaitNoExecuting();
                }
            }
            response = VirtioScsiResponse.FUNCTION_COMPLETE;
        }
        final int at = (q.tmfHead + q.tmfCount) % q.tmfTokens.length;
        q.tmfTokens[at] = token;
        q.tmfSinks[at] = sink;
        q.tmfResponses[at] = response;
        q.tmfCount++;
        return true;
    }

    public int poll(final int queue)
    {
        if (queue < 0 || queue >= queues.length)
        {
            return 0;
        }
        final CardFault current = fault.fault();
        if (!current.progresses())
        {
            return 0;
        }
        final Queue q = queues[queue];
        final InFlightSlots slots = q.slots;
        final long now = clock.nanoTime();
        int work = 0;
        while (q.tmfCount > 0 && current != CardFault.ZOMBIE)
        {
            final int at = q.tmfHead;
            if (!q.tmfSinks[at].complete(q.tmfTokens[at], q.tmfResponses[at], 0))
            {
                break;
            }
            q.tmfSinks[at] = null;
            q.tmfHead = (at + 1) % q.tmfTokens.length;
            q.tmfCount--;
            work++;
        }
        for (int slot = 0; slot < queueDepth; slot++)
        {
            final int state = slots.state(slot);
            switch (state)
            {
                case InFlightSlots.PENDING:
                    if (current != CardFault.ZOMBIE && now - slots.readyAt(slot) >= 0 && slots.beginExecute(slot))
                    {
                        execute(q, slot);
                        work += deliver(q, slot, slots.status(slot), slots.length(slot));
                    }
                    break;
                case InFlightSlots.DONE:
                    work += deliver(q, slot, slots.status(slot), slots.length(slot));
                    break;
                case InFlightSlots.ABORTED:
                    work += deliver(q, slot, ABORTED_RESULT, 0);
                    break;
                case InFlightSlots.RESET:
                case InFlightSlots.CANCELLED:
                    work += deliver(q, slot, RESET_RESULT, 0);
                    break;
                case InFlightSlots.ZOMBIE:
                    if (fence.isZombieReleased(now))
                    {
                        // A late, successful-looking completion that moved nothing: its token is stale.
                        work += deliver(q, slot, ScsiIo.packResult(STATUS_GOOD, VirtioScsiResponse.OK, 0), 0);
                    }
                    break;
                default:
                    break;
            }
        }
        return work;
    }

    /** Requests on {@code queue} not yet handed back through their sink. */
    public int inFlight(final int queue)
    {
        return queues[queue].slots.inFlight();
    }

    public long commandsSubmitted()
    {
        return commands.get();
    }

    public long pathFailures()
    {
        return failures.get();
    }

    private void execute(final Queue q, final int slot)
    {
        final int result;
        final int length;
        final ScsiIo io = q.ios[slot];
        final int target = q.targets[slot];
        if (fault.takeError())
        {
            failures.incrementAndGet();
            result = ScsiIo.packResult(0, VirtioScsiResponse.TRANSPORT_FAILURE, 0);
            length = 0;
        }
        else if (target < 0 || target >= targets.length)
        {
            result = ScsiIo.packResult(0, VirtioScsiResponse.BAD_TARGET, 0);
            length = 0;
        }
        else
        {
            result = targets[target].execute(io, q.context);
            length = q.context.transferred();
        }
        q.slots.finish(slot, result, length);
    }

    private int deliver(final Queue q, final int slot, final int status, final int length)
    {
        if (!q.slots.deliver(slot, status, length))
        {
            return 0;
        }
        q.ios[slot] = null;
        q.free.give(slot);
        return 1;
    }

    /**
     * Ends the PENDING tasks the TMF covers, keeping why in the slot's state. virtio-scsi, "Device
     * Operation: Request Queues": the response is "VIRTIO_SCSI_S_ABORTED if the request was cancelled
     * due to an ABORT TASK or ABORT TASK SET task management function" and "VIRTIO_SCSI_S_RESET if the
     * request was cancelled due to a bus or device reset (including a task management function)".
     * Linux's virtio_scsi maps ABORTED to DID_ABORT, which fails the command (an I/O error), and RESET
     * to DID_RESET, which the SCSI midlayer retries: a command a LUN reset ended must not fail.
     */
    private static void endMatching(final Queue q, final int function, final int target, final int lun, final long tag)
    {
        final int ended = function == TMF_ABORT_TASK ? InFlightSlots.ABORTED : InFlightSlots.RESET;
        final InFlightSlots slots = q.slots;
        for (int slot = 0; slot < slots.depth(); slot++)
        {
            final int word = slots.word(slot);
            if (InFlightSlots.stateOf(word) != InFlightSlots.PENDING)
            {
                continue;
            }
            // Racy reads of the owner's fields: the CAS below only succeeds if the slot was not reused since.
            final boolean match = q.targets[slot] == target &&
                (function == TMF_I_T_NEXUS_RESET ||
                (q.luns[slot] == lun && (function == TMF_LOGICAL_UNIT_RESET || q.tags[slot] == tag)));
            if (match)
            {
                slots.transition(slot, word, ended);
            }
        }
    }

    /** One hardware queue: slots, their request fields, a free stack and pending TMF responses. */
    private static final class Queue
    {
        final InFlightSlots slots;
        final ScsiIo[] ios;
        final int[] targets;
        final int[] luns;
        final long[] tags;
        final FreeSlots free;
        final ScsiContext context = new ScsiContext();
        final long[] tmfTokens;
        final CompletionSink[] tmfSinks;
        final int[] tmfResponses;
        int tmfHead;
        int tmfCount;

        Queue(final InFlightSlots slots, final int depth)
        {
            this.slots = slots;
            ios = new ScsiIo[depth];
            targets = new int[depth];
            luns = new int[depth];
            tags = new long[depth];
            free = new FreeSlots(depth);
            tmfTokens = new long[depth];
            tmfSinks = new CompletionSink[depth];
            tmfResponses = new int[depth];
        }
    }
}
