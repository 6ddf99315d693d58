package dev.braid.virtio.card;

/**
 * One Ethernet frame in guest memory, without the virtio-net header: tx data to send, or rx
 * buffer space to fill. Reused per in-flight slot.
 */
public final class NetFrame
{
    private final IoVector data;
    /** Bytes of the first segment that hold the virtio-net header, skipped by the card. */
    private int headerSkip;

    public NetFrame(final int maxSegments)
    {
        data = new IoVector(maxSegments);
    }

    public IoVector data()
    {
        return data;
    }

    /** Bytes at the start of {@link #data()} that are not part of the frame (the virtio-net header). */
    public int headerSkip()
    {
        return headerSkip;
    }

    public void headerSkip(final int headerSkip)
    {
        this.headerSkip = headerSkip;
    }

    /** Frame length for tx: the vector minus the header. */
    public long frameLength()
    {
        return data.totalLength() - headerSkip;
    }
}
