package dev.braid.aggregator.scsi;

import dev.braid.aggregator.ChainGather;
import dev.braid.aggregator.PushHandler;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.card.IoVector;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.virtio.card.ScsiIo;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiRequest;
import dev.braid.virtio.scsi.ScsiRequestParser;
import dev.braid.virtio.scsi.VirtioScsi;

import java.util.Arrays;

/**
 * virtio-scsi request queues over scsi cards (multipath): parse the command, hand the CDB and the
 * data segments to a card as a {@link ScsiIo} (zero copy), write virtio_scsi_cmd_resp when it is done.
 *
 * <p>A transport failure ({@link ScsiResult#isTransportFailure}) replays the command on another
 * card; what the LUN answered, CHECK CONDITION included, goes to the guest. Malformed requests are
 * answered here (FAILURE, BAD_TARGET). So is a command a TMF on the control queue ended
 * ({@link ScsiTaskTable#isEnded}) that no card ran to its end: one no card started yet, and one its
 * card gave back as a transport failure (its fence's cancel, a link down), which is not replayed. It
 * answers ABORTED after ABORT TASK and RESET after a LUN or I_T nexus reset
 * ({@link ScsiTaskTable#endedResponse}), and so does one its card itself ended for the TMF with
 * either response: virtio-scsi wants RESET for "a bus or device reset (including a task management
 * function)", and Linux fails an ABORTED command (DID_ABORT) where it retries a RESET one (DID_RESET).
 *
 * <p>Every task is registered in the device's {@link ScsiTaskTable} from pop to publication, so that
 * ABORT TASK and resets on the control queue can find it.
 */
public final class ScsiRequestHandler implements PushHandler<ScsiCard>
{
    private final GuestMemory memory;
    private final ScsiRequestParser parser;
    private final ScsiTaskTable tasks;
    private final int tableBase;
    private final ScsiRequest[] requests;
    private final ScsiIo[] ios;
    private final IoVector[] responses;
    private final long[] expected;
    private final boolean[] dataIn;
    private final int[] unpublished;
    private int unpublishedCount;
    private final byte[] scratch = new byte[ScsiDescriptor.cmdRespLength(VirtioScsi.MAX_SENSE_SIZE)];

    /**
     * @param parser       this queue's own parser (one per thread), configured with the device's
     *                     cdb_size, sense_size and limits.
     * @param requestQueue this queue's index among the device's request queues (its rows in {@code tasks}).
     */
    public ScsiRequestHandler(
        final GuestMemory memory, final ScsiRequestParser parser, final ScsiTaskTable tasks, final int requestQueue,
        final int queueSize, final int maxSegments)
    {
        this.memory = memory;
        this.parser = parser;
        this.tasks = tasks;
        this.tableBase = tasks.index(requestQueue, 0);
        requests = new ScsiRequest[queueSize];
        ios = new ScsiIo[queueSize];
        responses = new IoVector[queueSize];
        expected = new long[queueSize];
        dataIn = new boolean[queueSize];
        unpublished = new int[queueSize];
        for (int i = 0; i < queueSize; i++)
        {
            requests[i] = new ScsiRequest();
            ios[i] = new ScsiIo(maxSegments);
            responses[i] = new IoVector(maxSegments);
        }
    }

    public int prepare(final int slot, final DescriptorChain chain)
    {
        final ScsiRequest request = requests[slot];
        parser.parseCommand(memory, chain, request);
        if (request.outcome() != ScsiRequest.SUBMIT)
        {
            return parser.writeResponse(memory, chain, request);
        }

        final ScsiIo io = ios[slot];
        final boolean in = request.dataInLength() > 0;
        dataIn[slot] = in;
        expected[slot] = in ? request.dataInLength() : request.dataOutLength();
        final IoVector response = responses[slot];
        response.reset(memory);
        if (!ChainGather.gather(chain, chain.readableCount(), 0, request.responseLength(), response))
        {
            // The response area is spread over more segments than Braid keeps: nothing can be written.
            return 0;
        }
        io.dataOut().reset(memory);
        io.dataIn().reset(memory);
        if (!ChainGather.gather(chain, request.dataOutSegment(), request.dataOutOffset(), request.dataOutLength(), io.dataOut()) ||
            !ChainGather.gather(chain, request.dataInSegment(), request.dataInOffset(), request.dataInLength(), io.dataIn()))
        {
            return respond(slot, 0, VirtioScsi.VIRTIO_SCSI_S_FAILURE, 0, 0);
        }

        // Braid's ScsiIo holds 32 CDB bytes: no fixed-format CDB is longer; the rest of cdb_size is padding.
        final int cdbLength = Math.min(request.cdbLength(), ScsiIo.MAX_CDB);
        final byte[] cdb = io.cdb();
        for (int i = 0; i < cdbLength; i++)
        {
            cdb[i] = (byte)request.cdb(i);
        }
        io.set(request.target(), request.lun(), request.tag(), cdbLength);
        tasks.open(tableBase + slot, request.tag(), request.lunField());
        return SUBMIT;
    }

    public int flowHash(final int slot)
    {
        // Neighbouring blocks of one LUN share a hash, so a sequential stream keeps to one card.
        final ScsiIo io = ios[slot];
        final long block = lba(io.cdb()) >>> 8;
        return (int)(block ^ (block >>> 32) ^ io.lun()) * 0x9E3779B1;
    }

    private static long lba(final byte[] cdb)
    {
        switch (cdb[0] & 0xFF)
        {
            case 0x28: // READ(10)
            case 0x2A: // WRITE(10)
                return bigEndian(cdb, 2, 4);
            case 0x88: // READ(16)
            case 0x8A: // WRITE(16)
                return bigEndian(cdb, 2, 8);
            default:
                return 0;
        }
    }

    private static long bigEndian(final byte[] bytes, final int offset, final int length)
    {
        long value = 0;
        for (int i = 0; i < length; i++)
        {
            value = value << 8 | (bytes[offset + i] & 0xFF);
        }
        return value;
    }

    public boolean submit(final ScsiCard card, final int cardQueue, final int slot, final long token, final CompletionSink sink)
    {
        final int index = tableBase + slot;
        if (!tasks.handTo(index, card))
        {
            // Ended by the control queue while it waited or was being replayed: never started again.
            return sink.complete(token, ScsiResult.ended(tasks.endedResponse(index)), 0);
        }
        return card.submit(cardQueue, ios[slot], token, sink);
    }

    public boolean isPathFailure(final int slot, final int status)
    {
        // A task the guest's TMF ended is done wherever it was: replaying it would only be refused.
        return ScsiResult.isTransportFailure(status) && !tasks.isEnded(tableBase + slot);
    }

    public int complete(final int slot, final int status, final int length)
    {
        final int index = tableBase + slot;
        if (tasks.isEnded(index) && ScsiResult.isCutShort(status))
        {
            // Nothing ran to its end: answer why the TMF ended it, whatever the path said.
            return finish(slot, respond(slot, 0, tasks.endedResponse(index), 0, 0));
        }
        if (ScsiResult.isRawCardStatus(status))
        {
            // Only reached when replay gave up (max attempts): the path, not the LUN, failed.
            return finish(slot, respond(slot, 0, VirtioScsi.VIRTIO_SCSI_S_TRANSPORT_FAILURE, 0, 0));
        }
        final int response = ScsiResult.isTransportFailure(status) || VirtioScsi.isValidResponse(ScsiIo.response(status))
            ? ScsiIo.response(status) : VirtioScsi.VIRTIO_SCSI_S_FAILURE;
        final long transferred = Math.max(0, Math.min(length & 0xFFFF_FFFFL, expected[slot]));
        final int used = respond(slot, ScsiIo.scsiStatus(status), response, ScsiIo.senseLength(status), transferred);
        return finish(slot, used + (dataIn[slot] && used > 0 ? (int)transferred : 0));
    }

    public int fail(final int slot)
    {
        final int index = tableBase + slot;
        final int response = tasks.isEnded(index)
            ? tasks.endedResponse(index) : VirtioScsi.VIRTIO_SCSI_S_TRANSPORT_FAILURE;
        return finish(slot, respond(slot, 0, response, 0, 0));
    }

    public void onPublished()
    {
        for (int i = 0; i < unpublishedCount; i++)
        {
            tasks.release(tableBase + unpublished[i]);
        }
        unpublishedCount = 0;
    }

    private int finish(final int slot, final int usedLength)
    {
        tasks.completing(tableBase + slot);
        unpublished[unpublishedCount++] = slot;
        return usedLength;
    }

    /** Writes virtio_scsi_cmd_resp for a prepared request; returns its length, 0 if it could not be written. */
    private int respond(final int slot, final int status, final int response, final int senseLength, final long transferred)
    {
        final IoVector out = responses[slot];
        final int length = (int)Math.min(out.totalLength(), scratch.length);
        final int senseRoom = Math.max(0, length - ScsiDescriptor.RESP_SENSE_OFFSET);
        final int sense = response == VirtioScsi.VIRTIO_SCSI_S_OK
            ? Math.min(Math.min(senseLength, ScsiIo.MAX_SENSE), senseRoom) : 0;
        final long resid = expected[slot] - transferred;
        Arrays.fill(scratch, 0, length, (byte)0);
        putIntLe(scratch, ScsiDescriptor.RESP_SENSE_LEN_OFFSET, sense);
        putIntLe(scratch, ScsiDescriptor.RESP_RESID_OFFSET, (int)Math.min(resid, 0xFFFF_FFFFL));
        scratch[ScsiDescriptor.RESP_STATUS_OFFSET] = (byte)status;
        scratch[ScsiDescriptor.RESP_RESPONSE_OFFSET] = (byte)response;
        System.arraycopy(ios[slot].sense(), 0, scratch, ScsiDescriptor.RESP_SENSE_OFFSET, sense);
        return out.copyIn(0, scratch, 0, length) == length ? length : 0;
    }

    private static void putIntLe(final byte[] bytes, final int offset, final int value)
    {
        bytes[offset] = (byte)value;
        bytes[offset + 1] = (byte)(value >>> 8);
        bytes[offset + 2] = (byte)(value >>> 16);
        bytes[offset + 3] = (byte)(value >>> 24);
    }

    /** The device's task table (shared with the control queue). */
    public ScsiTaskTable tasks()
    {
        return tasks;
    }
}
