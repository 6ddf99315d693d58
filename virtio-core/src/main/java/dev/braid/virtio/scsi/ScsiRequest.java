package dev.braid.virtio.scsi;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A parsed virtio-scsi request: a command from a request queue, or a TMF or AN request from the
 * control queue. The CDB is copied into a buffer the request owns (it may be split across guest
 * segments); data ranges are chain positions (segment index, offset in it) plus a length.
 * Reused from a pool; every parse overwrites every field it reports.
 */
public final class ScsiRequest
{
    public static final int KIND_NONE = 0;
    public static final int KIND_CMD = 1;
    public static final int KIND_TMF = 2;
    public static final int KIND_AN_QUERY = 3;
    public static final int KIND_AN_SUBSCRIBE = 4;

    /** Hand to a card; it writes the response when done. */
    public static final int SUBMIT = 0;
    /** Write a response with {@link #response()} now ({@link ScsiRequestParser#writeResponse}). */
    public static final int COMPLETE = 1;
    /** No room for a response: complete with used length 0. */
    public static final int COMPLETE_NO_RESPONSE = 2;

    private final byte[] cdb = new byte[VirtioScsi.MAX_CDB_SIZE];
    private final UnsafeBuffer cdbView = new UnsafeBuffer(cdb);
    private int cdbLength;
    private int id;
    private int kind;
    private int outcome;
    private int response;
    private int responseLength;
    private long lunField;
    private long tag;
    private int taskAttr;
    private int prio;
    private int crn;
    private int tmfSubtype;
    private long eventRequested;
    private int dataOutSegment;
    private int dataOutOffset;
    private long dataOutLength;
    private int dataInSegment;
    private int dataInOffset;
    private long dataInLength;

    void reset(final int id, final int kind)
    {
        this.id = id;
        this.kind = kind;
        outcome = COMPLETE_NO_RESPONSE;
        response = VirtioScsi.VIRTIO_SCSI_S_FAILURE;
        responseLength = 0;
        cdbLength = 0;
        lunField = 0;
        tag = 0;
        taskAttr = 0;
        prio = 0;
        crn = 0;
        tmfSubtype = -1;
        eventRequested = 0;
        dataOutSegment = 0;
        dataOutOffset = 0;
        dataOutLength = 0;
        dataInSegment = 0;
        dataInOffset = 0;
        dataInLength = 0;
    }

    void kind(final int kind)
    {
        this.kind = kind;
    }

    int noResponse()
    {
        outcome = COMPLETE_NO_RESPONSE;
        response = VirtioScsi.VIRTIO_SCSI_S_FAILURE;
        responseLength = 0;
        return response;
    }

    int complete(final int response)
    {
        outcome = COMPLETE;
        this.response = response;
        return response;
    }

    int submit()
    {
        outcome = SUBMIT;
        response = VirtioScsi.VIRTIO_SCSI_S_OK;
        return response;
    }

    void responseLength(final int length)
    {
        responseLength = length;
    }

    void address(final long lunField, final long tag)
    {
        this.lunField = lunField;
        this.tag = tag;
    }

    void attributes(final int taskAttr, final int prio, final int crn)
    {
        this.taskAttr = taskAttr;
        this.prio = prio;
        this.crn = crn;
    }

    UnsafeBuffer cdbBuffer()
    {
        return cdbView;
    }

    void cdbLength(final int length)
    {
        cdbLength = length;
    }

    void tmfSubtype(final int subtype)
    {
        tmfSubtype = subtype;
    }

    void eventRequested(final long events)
    {
        eventRequested = events;
    }

    void dataOut(final int segment, final int offset, final long length)
    {
        dataOutSegment = segment;
        dataOutOffset = offset;
        dataOutLength = length;
    }

    void dataIn(final int segment, final int offset, final long length)
    {
        dataInSegment = segment;
        dataInOffset = offset;
        dataInLength = length;
    }

    public int id()
    {
        return id;
    }

    public int kind()
    {
        return kind;
    }

    public int outcome()
    {
        return outcome;
    }

    /** VIRTIO_SCSI_S_OK for a request to submit, else the response to complete with. */
    public int response()
    {
        return response;
    }

    /** Bytes of the response structure at the start of the writable bytes (the used length of an
     *  immediate completion); 0 with {@link #COMPLETE_NO_RESPONSE}. */
    public int responseLength()
    {
        return responseLength;
    }

    /** The raw 8-byte LUN field; see {@link ScsiLun}. */
    public long lunField()
    {
        return lunField;
    }

    public int target()
    {
        return ScsiLun.target(lunField);
    }

    public int lun()
    {
        return ScsiLun.lun(lunField);
    }

    /** The command's id (tag), or for a TMF the id of the task it names. */
    public long tag()
    {
        return tag;
    }

    public int taskAttr()
    {
        return taskAttr;
    }

    public int prio()
    {
        return prio;
    }

    public int crn()
    {
        return crn;
    }

    public int cdbLength()
    {
        return cdbLength;
    }

    public int cdb(final int index)
    {
        return cdb[index] & 0xFF;
    }

    /** The operation code: CDB byte 0. */
    public int opcode()
    {
        return cdbLength > 0 ? cdb[0] & 0xFF : -1;
    }

    /** Copies the CDB out (not for the hot path's inner loop: use {@link #cdb(int)}). */
    public void copyCdb(final byte[] dst, final int offset)
    {
        System.arraycopy(cdb, 0, dst, offset, cdbLength);
    }

    public int tmfSubtype()
    {
        return tmfSubtype;
    }

    public long eventRequested()
    {
        return eventRequested;
    }

    public int dataOutSegment()
    {
        return dataOutSegment;
    }

    public int dataOutOffset()
    {
        return dataOutOffset;
    }

    public long dataOutLength()
    {
        return dataOutLength;
    }

    public int dataInSegment()
    {
        return dataInSegment;
    }

    public int dataInOffset()
    {
        return dataInOffset;
    }

    public long dataInLength()
    {
        return dataInLength;
    }

    public String toString()
    {
        return "ScsiRequest{id=" + id + ", kind=" + kind + ", outcome=" + outcome + ", response=" + response +
            ", target=" + target() + ", lun=" + lun() + ", tag=" + tag + ", opcode=" + opcode() + ", out=" +
            dataOutLength + ", in=" + dataInLength + ", tmf=" + tmfSubtype + "}";
    }
}
