package dev.braid.aggregator.scsi;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.CardPort;
import dev.braid.aggregator.CompletionToken;
import dev.braid.aggregator.InterruptSink;
import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.device.ChainBytes;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.ScsiRequest;
import dev.braid.virtio.scsi.ScsiRequestParser;
import dev.braid.virtio.scsi.VirtioScsi;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The agent that owns the virtio-scsi control queue and event queue (virtio queues 0 and 1).
 *
 * <p><b>Task management.</b> ABORT TASK goes to the card that holds the task, found in the
 * {@link ScsiTaskTable}; LOGICAL UNIT RESET and I_T NEXUS RESET go to every usable card (not fenced,
 * not removed). Each reaches its card through the card's control ring, the relay's own channel ({@link ScsiTmfRelay}),
 * on card queue 0; a card applies a TMF to all of its queues, as an HBA does for its I_T nexus. Every
 * task a TMF affects is marked ended in the table first, with the reason, so a task that is waiting
 * for a route, or whose card failed or was fenced under it, completes instead of being started
 * again: with response ABORTED after ABORT TASK, RESET after a LUN or I_T nexus reset (as
 * virtio-scsi asks; see {@link ScsiTaskTable}). A TMF completes only when every card it was sent to
 * answered (or was fenced since: a fence already cancelled that card's tasks) and every affected
 * task's completion was published
 * to the guest, so the guest never sees the TMF before the completions it caused. The answer is
 * FUNCTION_COMPLETE when all cards answered so, else the worst card answer (INCORRECT_LUN,
 * FUNCTION_REJECTED, FAILURE). An ABORT TASK for a task no card holds (not found, waiting, or being
 * replayed) completes without a card. A reset no card could take (all fenced) still ends the
 * device's tasks but answers FAILURE: the logical unit itself was not reset. A TMF still open after
 * the TMF timeout answers FAILURE. QUERY TASK and QUERY TASK SET are answered from the table; ABORT
 * TASK SET, CLEAR TASK SET and CLEAR ACA are rejected (the card SPI does not carry them).
 *
 * <p><b>Asynchronous notification.</b> Answered here: no event class is supported (event_actual 0).
 * <b>Event queue.</b> Its buffers are held, for events Braid does not yet raise.
 *
 * <p>Control plane, not hot path: TMFs are rare, and a TMF scans the task table.
 */
public final class ScsiControlQueue implements Agent, CompletionHandler
{
    /** TMFs served at once; further control requests wait in the guest's ring. */
    public static final int MAX_CONCURRENT_TMFS = 16;

    private static final byte RELAY_NONE = 0;
    private static final byte RELAY_TO_SEND = 1;
    private static final byte RELAY_SENT = 2;
    private static final byte RELAY_ANSWERED = 3;

    private static final int RANK_COMPLETE = 0;
    private static final int RANK_INCORRECT_LUN = 1;
    private static final int RANK_REJECTED = 2;
    private static final int RANK_FAILURE = 3;

    private final GuestMemory memory;
    private final DeviceQueue control;
    private final DeviceQueue event;
    private final int controlIndex;
    private final int eventIndex;
    private final ScsiRequestParser parser;
    private final ScsiTaskTable tasks;
    private final ScsiTmfRelay relay;
    private final AggregatedDevice<ScsiCard> device;
    private final int relayQueue;
    private final int maxCards;
    private final InterruptSink interrupts;
    private final NanoClock clock;
    private final long tmfTimeoutNanos;
    private final DescriptorChain chain;
    private final ScsiRequest request = new ScsiRequest();
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[8]);

    private final boolean[] busy = new boolean[MAX_CONCURRENT_TMFS];
    private final int[] head = new int[MAX_CONCURRENT_TMFS];
    private final long[] responseGpa = new long[MAX_CONCURRENT_TMFS];
    private final int[] function = new int[MAX_CONCURRENT_TMFS];
    private final int[] target = new int[MAX_CONCURRENT_TMFS];
    private final int[] lun = new int[MAX_CONCURRENT_TMFS];
    private final long[] tag = new long[MAX_CONCURRENT_TMFS];
    private final long[] startNanos = new long[MAX_CONCURRENT_TMFS];
    private final int[] rank = new int[MAX_CONCURRENT_TMFS];
    private final boolean[] answered = new boolean[MAX_CONCURRENT_TMFS];
    private final int[] waitCount = new int[MAX_CONCURRENT_TMFS];
    private final int[][] waitIndex = new int[MAX_CONCURRENT_TMFS][];
    private final int[][] waitGeneration = new int[MAX_CONCURRENT_TMFS][];

    private final byte[] relayState;
    private final int[] relaySeq;
    private final int[] relayFenceGeneration;

    private final int[] heldEvents;
    private int heldEventCount;
    private boolean controlStaged;
    private boolean eventStaged;
    private long now;
    private long tmfsCompleted;

    /**
     * @param parser       a parser for this agent's thread, configured like the request queues'.
     * @param interrupts   the VMM's interrupt sink, by virtio queue index.
     * @param controlIndex the control queue's virtio index (0); the event queue is {@code controlIndex + 1}.
     */
    public ScsiControlQueue(
        final GuestMemory memory, final DeviceQueue control, final DeviceQueue event, final int controlIndex,
        final ScsiRequestParser parser, final ScsiTaskTable tasks, final ScsiTmfRelay relay,
        final AggregatedDevice<ScsiCard> device, final InterruptSink interrupts, final NanoClock clock,
        final long tmfTimeoutNanos)
    {
        this.memory = memory;
        this.control = control;
        this.event = event;
        this.controlIndex = controlIndex;
        this.eventIndex = controlIndex + 1;
        this.parser = parser;
        this.tasks = tasks;
        this.relay = relay;
        this.device = device;
        this.relayQueue = device.controlChannel(0);
        this.maxCards = device.maxCards();
        this.interrupts = interrupts;
        this.clock = clock;
        this.tmfTimeoutNanos = tmfTimeoutNanos;
        if (relay.slots() < MAX_CONCURRENT_TMFS * maxCards)
        {
            throw new IllegalArgumentException("the relay needs " + MAX_CONCURRENT_TMFS * maxCards + " slots");
        }
        chain = new DescriptorChain(Math.max(control.size(), event.size()));
        for (int t = 0; t < MAX_CONCURRENT_TMFS; t++)
        {
            waitIndex[t] = new int[tasks.entries()];
            waitGeneration[t] = new int[tasks.entries()];
        }
        relayState = new byte[MAX_CONCURRENT_TMFS * maxCards];
        relaySeq = new int[relayState.length];
        relayFenceGeneration = new int[relayState.length];
        heldEvents = new int[event.size()];
    }

    public String roleName()
    {
        return "braid-scsi-control";
    }

    /** The control virtqueue (a transport moves it to the front end's indices before the agent runs). */
    public DeviceQueue controlRing()
    {
        return control;
    }

    /** The event virtqueue; {@link #heldEvents()} of its buffers are popped and held, not yet used. */
    public DeviceQueue eventRing()
    {
        return event;
    }

    public int doWork()
    {
        now = clock.nanoTime();
        int work = relay.completions().drain(this, 64);
        for (int t = 0; t < MAX_CONCURRENT_TMFS; t++)
        {
            if (busy[t])
            {
                work += advance(t);
            }
        }
        if (!control.isBroken())
        {
            work += popControl();
        }
        if (!event.isBroken())
        {
            work += popEvents();
        }
        if (controlStaged)
        {
            controlStaged = false;
            control.publishUsed();
            if (control.needsInterrupt())
            {
                interrupts.interrupt(controlIndex);
            }
        }
        if (eventStaged)
        {
            eventStaged = false;
            event.publishUsed();
            if (event.needsInterrupt())
            {
                interrupts.interrupt(eventIndex);
            }
        }
        return work;
    }

    // ---------------------------------------------------------------- control queue

    private int popControl()
    {
        int work = 0;
        while (freeContext() >= 0)
        {
            final int result = control.pop(chain);
            if (result == ChainStatus.EMPTY)
            {
                break;
            }
            work++;
            if (result == ChainStatus.POPPED)
            {
                onControlRequest();
            }
            else if (ChainStatus.isChainError(result))
            {
                addControlUsed(chain.id(), 0);
            }
            else
            {
                break;
            }
        }
        return work;
    }

    private void onControlRequest()
    {
        parser.parseControl(memory, chain, request);
        if (request.outcome() != ScsiRequest.SUBMIT)
        {
            addControlUsed(chain.id(), parser.writeResponse(memory, chain, request));
            return;
        }
        if (request.kind() != ScsiRequest.KIND_TMF)
        {
            // AN query or subscribe: no event class is supported.
            scratch.putInt(ScsiDescriptor.AN_EVENT_ACTUAL_OFFSET, 0);
            scratch.putByte(ScsiDescriptor.AN_RESPONSE_OFFSET, (byte)VirtioScsi.VIRTIO_SCSI_S_OK);
            final boolean written = ChainBytes.copyToWritable(memory, chain, 0, scratch, 0, ScsiDescriptor.AN_RESP_LENGTH);
            addControlUsed(chain.id(), written ? ScsiDescriptor.AN_RESP_LENGTH : 0);
            return;
        }
        final long position = ChainBytes.locateWritable(chain, 0);
        final long gpa = chain.address(ChainBytes.segment(position)) + ChainBytes.offset(position);
        switch (request.tmfSubtype())
        {
            case VirtioScsi.VIRTIO_SCSI_T_TMF_ABORT_TASK:
                start(gpa, ScsiCard.TMF_ABORT_TASK);
                break;
            case VirtioScsi.VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
                start(gpa, ScsiCard.TMF_LOGICAL_UNIT_RESET);
                break;
            case VirtioScsi.VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET:
                start(gpa, ScsiCard.TMF_I_T_NEXUS_RESET);
                break;
            case VirtioScsi.VIRTIO_SCSI_T_TMF_QUERY_TASK:
            case VirtioScsi.VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
                final boolean task = request.tmfSubtype() == VirtioScsi.VIRTIO_SCSI_T_TMF_QUERY_TASK;
                respond(chain.id(), gpa, anyActive(request.target(), request.lun(), task, request.tag())
                    ? VirtioScsi.VIRTIO_SCSI_S_FUNCTION_SUCCEEDED : VirtioScsi.VIRTIO_SCSI_S_OK);
                break;
            default:
                respond(chain.id(), gpa, VirtioScsi.VIRTIO_SCSI_S_FUNCTION_REJECTED);
                break;
        }
    }

    private int freeContext()
    {
        for (int t = 0; t < MAX_CONCURRENT_TMFS; t++)
        {
            if (!busy[t])
            {
                return t;
            }
        }
        return -1;
    }

    private void respond(final int id, final long gpa, final int response)
    {
        memory.putByte(gpa + ScsiDescriptor.TMF_RESPONSE_OFFSET, (byte)response);
        addControlUsed(id, ScsiDescriptor.TMF_RESP_LENGTH);
    }

    private void addControlUsed(final int id, final int length)
    {
        control.addUsed(id, length);
        controlStaged = true;
    }

    // ---------------------------------------------------------------- task management

    private void start(final long gpa, final int tmf)
    {
        final int t = freeContext();
        busy[t] = true;
        head[t] = chain.id();
        responseGpa[t] = gpa;
        function[t] = tmf;
        target[t] = request.target();
        lun[t] = request.lun();
        tag[t] = request.tag();
        startNanos[t] = now;
        rank[t] = RANK_COMPLETE;
        answered[t] = false;
        waitCount[t] = 0;

        // Mark first, then read holders: see ScsiTaskTable on why no task slips between.
        int holderCard = -1;
        for (int i = 0; i < tasks.entries(); i++)
        {
            final int state = tasks.state(i);
            if (ScsiTaskTable.phase(state) == ScsiTaskTable.FREE)
            {
                continue;
            }
            final long taskTag = tasks.tag(i);
            final long lunField = tasks.lunField(i);
            final int confirmed = tasks.state(i);
            if (!ScsiTaskTable.sameLife(state, confirmed) || !affects(t, lunField, taskTag))
            {
                continue;
            }
            if (tmf == ScsiCard.TMF_ABORT_TASK)
            {
                tasks.markAborted(i, confirmed);
            }
            else
            {
                tasks.markReset(i, confirmed);
            }
            waitIndex[t][waitCount[t]] = i;
            waitGeneration[t][waitCount[t]] = ScsiTaskTable.generation(confirmed);
            waitCount[t]++;
            if (tmf == ScsiCard.TMF_ABORT_TASK && holderCard < 0)
            {
                holderCard = cardOf(tasks.holder(i));
            }
        }

        for (int card = 0; card < maxCards; card++)
        {
            final int r = t * maxCards + card;
            relayState[r] = RELAY_NONE;
            if ((tmf != ScsiCard.TMF_ABORT_TASK || card == holderCard) && usable(device.port(card)))
            {
                relaySeq[r]++;
                relay.set(r, tmf, target[t], lun[t], tag[t]);
                relayState[r] = RELAY_TO_SEND;
            }
        }
        advance(t);
    }

    private boolean affects(final int t, final long lunField, final long taskTag)
    {
        if (ScsiLun.target(lunField) != target[t])
        {
            return false;
        }
        if (function[t] == ScsiCard.TMF_I_T_NEXUS_RESET)
        {
            return true;
        }
        return ScsiLun.lun(lunField) == lun[t] && (function[t] == ScsiCard.TMF_LOGICAL_UNIT_RESET || taskTag == tag[t]);
    }

    private boolean anyActive(final int target, final int lun, final boolean oneTask, final long tag)
    {
        for (int i = 0; i < tasks.entries(); i++)
        {
            final int state = tasks.state(i);
            if (ScsiTaskTable.phase(state) != ScsiTaskTable.ACTIVE)
            {
                continue;
            }
            final long lunField = tasks.lunField(i);
            final long taskTag = tasks.tag(i);
            if (ScsiTaskTable.sameLife(state, tasks.state(i)) && ScsiLun.target(lunField) == target &&
                ScsiLun.lun(lunField) == lun && (!oneTask || taskTag == tag))
            {
                return true;
            }
        }
        return false;
    }

    private int cardOf(final Card holder)
    {
        if (holder == null)
        {
            return -1;
        }
        for (int card = 0; card < maxCards; card++)
        {
            final CardPort<ScsiCard> port = device.port(card);
            if (port != null && port.card() == holder)
            {
                return card;
            }
        }
        return -1;
    }

    private static boolean usable(final CardPort<?> port)
    {
        return port != null && !port.isFenced() && !port.isRemoved();
    }

    /** Sends what is due, drops cards fenced since, and completes the TMF when nothing is owed. */
    private int advance(final int t)
    {
        int work = 0;
        boolean cardsDone = true;
        for (int card = 0; card < maxCards; card++)
        {
            final int r = t * maxCards + card;
            final byte state = relayState[r];
            if (state == RELAY_TO_SEND)
            {
                final CardPort<ScsiCard> port = device.port(card);
                if (!usable(port))
                {
                    relayState[r] = RELAY_NONE;
                    continue;
                }
                // Generation first, as a front queue does: a fence after this point drops the relay.
                relayFenceGeneration[r] = port.fenceGeneration();
                if (port.controlRing().offer(CompletionToken.encode(relayQueue, r,
                    relayFenceGeneration[r], relaySeq[r])))
                {
                    relayState[r] = RELAY_SENT;
                    work++;
                }
                cardsDone = false;
            }
            else if (state == RELAY_SENT)
            {
                final CardPort<ScsiCard> port = device.port(card);
                if (port == null || port.isRemoved() || port.fenceGeneration() != relayFenceGeneration[r])
                {
                    // Fenced since: the fence cancelled its tasks, which complete as the marks say.
                    relayState[r] = RELAY_NONE;
                    work++;
                }
                else
                {
                    cardsDone = false;
                }
            }
        }

        final boolean timedOut = now - startNanos[t] >= tmfTimeoutNanos;
        if (!timedOut && !(cardsDone && tasksPublished(t)))
        {
            return work;
        }
        final int response;
        if (timedOut)
        {
            response = VirtioScsi.VIRTIO_SCSI_S_FAILURE;
        }
        else if (function[t] != ScsiCard.TMF_ABORT_TASK && !answered[t])
        {
            response = VirtioScsi.VIRTIO_SCSI_S_FAILURE;
        }
        else
        {
            response = responseOf(rank[t]);
        }
        for (int card = 0; card < maxCards; card++)
        {
            final int r = t * maxCards + card;
            if (relayState[r] != RELAY_NONE)
            {
                // A late answer carries the old sequence number and is dropped.
                relaySeq[r]++;
                relayState[r] = RELAY_NONE;
            }
        }
        busy[t] = false;
        tmfsCompleted++;
        respond(head[t], responseGpa[t], response);
        return work + 1;
    }

    private boolean tasksPublished(final int t)
    {
        final int[] index = waitIndex[t];
        final int[] generation = waitGeneration[t];
        for (int w = waitCount[t] - 1; w >= 0; w--)
        {
            if (ScsiTaskTable.generation(tasks.state(index[w])) == generation[w])
            {
                return false;
            }
            // Done: drop it from the list so the next check is shorter.
            waitCount[t]--;
            index[w] = index[waitCount[t]];
            generation[w] = generation[waitCount[t]];
        }
        return true;
    }

    public void onCompletion(final long token, final int status, final int length)
    {
        final int r = CompletionToken.head(token);
        // The worker's cancel is no answer: the card was being fenced, and advance() sees the fence.
        if (!ScsiTmfRelay.isAnswer(status) || r >= relayState.length || relayState[r] != RELAY_SENT || !CompletionToken.isAttempt(token, relaySeq[r]))
        {
            return;
        }
        relayState[r] = RELAY_ANSWERED;
        final int t = r / maxCards;
        answered[t] = true;
        rank[t] = Math.max(rank[t], rankOf(ScsiTmfRelay.response(status)));
    }

    private static int rankOf(final int response)
    {
        switch (response)
        {
            case VirtioScsi.VIRTIO_SCSI_S_OK:
            case VirtioScsi.VIRTIO_SCSI_S_FUNCTION_SUCCEEDED:
                return RANK_COMPLETE;
            case VirtioScsi.VIRTIO_SCSI_S_INCORRECT_LUN:
                return RANK_INCORRECT_LUN;
            case VirtioScsi.VIRTIO_SCSI_S_FUNCTION_REJECTED:
                return RANK_REJECTED;
            default:
                return RANK_FAILURE;
        }
    }

    private static int responseOf(final int rank)
    {
        switch (rank)
        {
            case RANK_COMPLETE:
                return VirtioScsi.VIRTIO_SCSI_S_OK;
            case RANK_INCORRECT_LUN:
                return VirtioScsi.VIRTIO_SCSI_S_INCORRECT_LUN;
            case RANK_REJECTED:
                return VirtioScsi.VIRTIO_SCSI_S_FUNCTION_REJECTED;
            default:
                return VirtioScsi.VIRTIO_SCSI_S_FAILURE;
        }
    }

    // ---------------------------------------------------------------- event queue

    private int popEvents()
    {
        int work = 0;
        while (heldEventCount < heldEvents.length)
        {
            final int result = event.pop(chain);
            if (result == ChainStatus.EMPTY)
            {
                break;
            }
            work++;
            if (result == ChainStatus.POPPED)
            {
                heldEvents[heldEventCount++] = chain.id();
            }
            else if (ChainStatus.isChainError(result))
            {
                event.addUsed(chain.id(), 0);
                eventStaged = true;
            }
            else
            {
                break;
            }
        }
        return work;
    }

    // ---------------------------------------------------------------- inspection

    /** Whether the control or the event ring broke (the device then needs a reset). */
    public boolean isBroken()
    {
        return control.isBroken() || event.isBroken();
    }

    /** Event buffers the guest posted and Braid holds. */
    public int heldEvents()
    {
        return heldEventCount;
    }

    /** ABORT TASK and reset TMFs completed to the guest (those answered at once are not counted). */
    public long tmfsCompleted()
    {
        return tmfsCompleted;
    }

    /** TMFs in progress. */
    public int tmfsInProgress()
    {
        int count = 0;
        for (final boolean b : busy)
        {
            count += b ? 1 : 0;
        }
        return count;
    }
}
