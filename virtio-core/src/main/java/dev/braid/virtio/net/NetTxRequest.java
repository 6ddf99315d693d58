package dev.braid.virtio.net;

/**
 * A parsed tx chain: the virtio_net_hdr_v1 fields and where the frame lies. The frame starts at
 * {@link #frameSegment()} / {@link #frameOffset()} and runs {@link #frameLength()} bytes through the
 * following readable segments. Reused from a pool; each parse overwrites every field.
 */
public final class NetTxRequest
{
    private int id;
    private int status;
    private int flags;
    private int gsoType;
    private int hdrLen;
    private int gsoSize;
    private int csumStart;
    private int csumOffset;
    private int frameSegment;
    private int frameOffset;
    private long frameLength;

    void reset(final int id)
    {
        this.id = id;
        status = NetTxParser.TX_BAD_LAYOUT;
        flags = 0;
        gsoType = 0;
        hdrLen = 0;
        gsoSize = 0;
        csumStart = 0;
        csumOffset = 0;
        frameSegment = 0;
        frameOffset = 0;
        frameLength = 0;
    }

    int status(final int status)
    {
        this.status = status;
        return status;
    }

    void header(
        final int flags, final int gsoType, final int hdrLen, final int gsoSize, final int csumStart, final int csumOffset)
    {
        this.flags = flags;
        this.gsoType = gsoType;
        this.hdrLen = hdrLen;
        this.gsoSize = gsoSize;
        this.csumStart = csumStart;
        this.csumOffset = csumOffset;
    }

    void frame(final int segment, final int offset, final long length)
    {
        frameSegment = segment;
        frameOffset = offset;
        frameLength = length;
    }

    public int id()
    {
        return id;
    }

    /** {@link NetTxParser#TX_OK} or the reason the frame is dropped (complete with used length 0). */
    public int status()
    {
        return status;
    }

    public int flags()
    {
        return flags;
    }

    public boolean needsChecksum()
    {
        return (flags & VirtioNet.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
    }

    public int gsoType()
    {
        return gsoType;
    }

    public int hdrLen()
    {
        return hdrLen;
    }

    public int gsoSize()
    {
        return gsoSize;
    }

    public int csumStart()
    {
        return csumStart;
    }

    public int csumOffset()
    {
        return csumOffset;
    }

    public int frameSegment()
    {
        return frameSegment;
    }

    public int frameOffset()
    {
        return frameOffset;
    }

    public long frameLength()
    {
        return frameLength;
    }

    public String toString()
    {
        return "NetTxRequest{id=" + id + ", status=" + status + ", flags=" + flags + ", gso=" + gsoType + "/" + gsoSize +
            ", csum=" + csumStart + "+" + csumOffset + ", frame=" + frameSegment + "+" + frameOffset + "/" + frameLength + "}";
    }
}
