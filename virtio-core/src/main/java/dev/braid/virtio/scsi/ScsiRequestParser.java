package dev.braid.virtio.scsi;

import dev.braid.virtio.device.ChainBytes;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DescriptorChain;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static dev.braid.virtio.scsi.ScsiDescriptor.*;
import static dev.braid.virtio.scsi.VirtioScsi.*;

/**
 * Validates virtio-scsi chains. Request queues carry commands: the request header and CDB
 * (cdb_size bytes) readable first, data-out after it; the response (12 + sense_size bytes) writable
 * first, data-in after it. The control queue carries TMF and AN requests. Guest mistakes become
 * responses, never exceptions:
 * <ul>
 *   <li>no room for the response structure: {@link ScsiRequest#COMPLETE_NO_RESPONSE} (used length 0);</li>
 *   <li>request shorter than its header, or data in both directions without INOUT: FAILURE;</li>
 *   <li>a malformed LUN field, or a target/LUN beyond max_target/max_lun: BAD_TARGET;</li>
 *   <li>an unknown TMF subtype: FUNCTION_REJECTED.</li>
 * </ul>
 * A control request of unknown type has no defined response layout and is completed with used
 * length 0.
 *
 * <p>One parser per queue thread; allocation-free. Reconfigure after the driver writes
 * cdb_size / sense_size.
 */
public final class ScsiRequestParser
{
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[Math.max(TMF_REQ_LENGTH, MAX_SENSE_SIZE + RESP_SENSE_OFFSET)]);
    private int cdbSize = VIRTIO_SCSI_CDB_DEFAULT_SIZE;
    private int senseSize = VIRTIO_SCSI_SENSE_DEFAULT_SIZE;
    private int maxTarget = 255;
    private int maxLun = ScsiLun.MAX_LUN;
    private boolean inout;

    /** Takes sizes and limits from the config space; sizes are clamped to Braid's buffers. */
    public ScsiRequestParser configure(final ScsiConfig config, final long negotiatedFeatures)
    {
        cdbSize = (int)Math.min(config.cdbSize(), MAX_CDB_SIZE);
        senseSize = (int)Math.min(config.senseSize(), MAX_SENSE_SIZE);
        maxTarget = config.maxTarget();
        maxLun = (int)Math.min(config.maxLun(), ScsiLun.MAX_LUN);
        inout = VirtioFeatures.has(negotiatedFeatures, VIRTIO_SCSI_F_INOUT);
        return this;
    }

    public ScsiRequestParser sizes(final int cdbSize, final int senseSize)
    {
        this.cdbSize = Math.max(0, Math.min(cdbSize, MAX_CDB_SIZE));
        this.senseSize = Math.max(0, Math.min(senseSize, MAX_SENSE_SIZE));
        return this;
    }

    public ScsiRequestParser limits(final int maxTarget, final int maxLun)
    {
        this.maxTarget = maxTarget;
        this.maxLun = maxLun;
        return this;
    }

    public ScsiRequestParser inout(final boolean bidirectional)
    {
        inout = bidirectional;
        return this;
    }

    public int cdbSize()
    {
        return cdbSize;
    }

    public int senseSize()
    {
        return senseSize;
    }

    /** Parses a request-queue chain. Returns VIRTIO_SCSI_S_OK to submit, else the response to give. */
    public int parseCommand(final GuestMemory memory, final DescriptorChain chain, final ScsiRequest out)
    {
        out.reset(chain.id(), ScsiRequest.KIND_CMD);
        final int reqLength = cmdReqLength(cdbSize);
        final int respLength = cmdRespLength(senseSize);
        if (chain.writableBytes() < respLength || !ChainBytes.writableInMemory(memory, chain, 0, respLength))
        {
            return out.noResponse();
        }
        out.responseLength(respLength);
        if (chain.readableBytes() < reqLength ||
            !ChainBytes.copyReadable(memory, chain, 0, scratch, 0, CMD_CDB_OFFSET) ||
            !ChainBytes.copyReadable(memory, chain, CMD_CDB_OFFSET, out.cdbBuffer(), 0, cdbSize))
        {
            return out.complete(VIRTIO_SCSI_S_FAILURE);
        }
        out.cdbLength(cdbSize);
        final long lunField = scratch.getLong(CMD_LUN_OFFSET, ByteOrder.LITTLE_ENDIAN);
        out.address(lunField, scratch.getLong(CMD_ID_OFFSET, ByteOrder.LITTLE_ENDIAN));
        out.attributes(scratch.getByte(CMD_TASK_ATTR_OFFSET) & 0xFF, scratch.getByte(CMD_PRIO_OFFSET) & 0xFF,
            scratch.getByte(CMD_CRN_OFFSET) & 0xFF);
        final long dataOut = chain.readableBytes() - reqLength;
        final long dataIn = chain.writableBytes() - respLength;
        // Ranges first, so that an early response can report every data byte as residual.
        if (dataOut > 0)
        {
            final long start = ChainBytes.locateReadable(chain, reqLength);
            out.dataOut(ChainBytes.segment(start), ChainBytes.offset(start), dataOut);
        }
        if (dataIn > 0)
        {
            final long start = ChainBytes.locateWritable(chain, respLength);
            out.dataIn(ChainBytes.segment(start), ChainBytes.offset(start), dataIn);
        }
        if (!addressable(lunField))
        {
            return out.complete(VIRTIO_SCSI_S_BAD_TARGET);
        }
        if (dataOut > 0 && dataIn > 0 && !inout)
        {
            return out.complete(VIRTIO_SCSI_S_FAILURE);
        }
        return out.submit();
    }

    /** Parses a control-queue chain (TMF or AN). Returns VIRTIO_SCSI_S_OK to submit, else the response. */
    public int parseControl(final GuestMemory memory, final DescriptorChain chain, final ScsiRequest out)
    {
        out.reset(chain.id(), ScsiRequest.KIND_NONE);
        if (chain.readableBytes() < CTRL_TYPE_LENGTH ||
            !ChainBytes.copyReadable(memory, chain, 0, scratch, 0, CTRL_TYPE_LENGTH))
        {
            return out.noResponse();
        }
        final long type = scratch.getInt(CTRL_TYPE_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
        if (type == VIRTIO_SCSI_T_TMF)
        {
            out.kind(ScsiRequest.KIND_TMF);
            if (!responseFits(memory, chain, TMF_RESP_LENGTH, out))
            {
                return out.noResponse();
            }
            if (chain.readableBytes() < TMF_REQ_LENGTH ||
                !ChainBytes.copyReadable(memory, chain, 0, scratch, 0, TMF_REQ_LENGTH))
            {
                return out.complete(VIRTIO_SCSI_S_FAILURE);
            }
            final long subtype = scratch.getInt(TMF_SUBTYPE_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL;
            final long lunField = scratch.getLong(TMF_LUN_OFFSET, ByteOrder.LITTLE_ENDIAN);
            out.address(lunField, scratch.getLong(TMF_ID_OFFSET, ByteOrder.LITTLE_ENDIAN));
            if (subtype > VIRTIO_SCSI_T_TMF_QUERY_TASK_SET)
            {
                return out.complete(VIRTIO_SCSI_S_FUNCTION_REJECTED);
            }
            out.tmfSubtype((int)subtype);
            return addressable(lunField) ? out.submit() : out.complete(VIRTIO_SCSI_S_BAD_TARGET);
        }
        if (type == VIRTIO_SCSI_T_AN_QUERY || type == VIRTIO_SCSI_T_AN_SUBSCRIBE)
        {
            out.kind(type == VIRTIO_SCSI_T_AN_QUERY ? ScsiRequest.KIND_AN_QUERY : ScsiRequest.KIND_AN_SUBSCRIBE);
            if (!responseFits(memory, chain, AN_RESP_LENGTH, out))
            {
                return out.noResponse();
            }
            if (chain.readableBytes() < AN_REQ_LENGTH ||
                !ChainBytes.copyReadable(memory, chain, 0, scratch, 0, AN_REQ_LENGTH))
            {
                return out.complete(VIRTIO_SCSI_S_FAILURE);
            }
            final long lunField = scratch.getLong(AN_LUN_OFFSET, ByteOrder.LITTLE_ENDIAN);
            out.address(lunField, 0);
            out.eventRequested(scratch.getInt(AN_EVENT_REQUESTED_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF_FFFFL);
            return addressable(lunField) ? out.submit() : out.complete(VIRTIO_SCSI_S_BAD_TARGET);
        }
        return out.noResponse();
    }

    /**
     * Writes the response structure of a {@link ScsiRequest#COMPLETE} request: all fields zero except
     * the response code (and, for a command, resid = every data byte, since none moved). Returns
     * the used length to complete with: the response length, or 0 if it could not be written.
     */
    public int writeResponse(final GuestMemory memory, final DescriptorChain chain, final ScsiRequest request)
    {
        final int length = request.responseLength();
        if (request.outcome() == ScsiRequest.COMPLETE_NO_RESPONSE || length == 0)
        {
            return 0;
        }
        scratch.setMemory(0, length, (byte)0);
        switch (request.kind())
        {
            case ScsiRequest.KIND_CMD:
                scratch.putInt(RESP_RESID_OFFSET,
                    (int)Math.min(0xFFFF_FFFFL, request.dataInLength() + request.dataOutLength()), ByteOrder.LITTLE_ENDIAN);
                scratch.putByte(RESP_RESPONSE_OFFSET, (byte)request.response());
                break;
            case ScsiRequest.KIND_TMF:
                scratch.putByte(TMF_RESPONSE_OFFSET, (byte)request.response());
                break;
            default:
                scratch.putByte(AN_RESPONSE_OFFSET, (byte)request.response());
                break;
        }
        return ChainBytes.copyToWritable(memory, chain, 0, scratch, 0, length) ? length : 0;
    }

    private static boolean responseFits(
        final GuestMemory memory, final DescriptorChain chain, final int length, final ScsiRequest out)
    {
        if (chain.writableBytes() < length || !ChainBytes.writableInMemory(memory, chain, 0, length))
        {
            return false;
        }
        out.responseLength(length);
        return true;
    }

    private boolean addressable(final long lunField)
    {
        return ScsiLun.isWellFormed(lunField) && ScsiLun.target(lunField) <= maxTarget &&
            ScsiLun.lun(lunField) <= maxLun;
    }
}
