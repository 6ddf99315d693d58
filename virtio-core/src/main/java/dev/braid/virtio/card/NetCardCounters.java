package dev.braid.virtio.card;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The frame and byte counts every NIC card keeps, in one place so each card counts the same way.
 * Written by the queue's driving thread (and the announce path), read from any thread.
 */
public final class NetCardCounters
{
    private final AtomicLong txFrames = new AtomicLong();
    private final AtomicLong txBytes = new AtomicLong();
    private final AtomicLong txErrors = new AtomicLong();
    private final AtomicLong txDropped = new AtomicLong();
    private final AtomicLong rxFrames = new AtomicLong();
    private final AtomicLong rxBytes = new AtomicLong();
    private final AtomicLong rxDropped = new AtomicLong();

    /** One frame of {@code bytes} put on the wire. */
    public void sent(final long bytes)
    {
        txFrames.incrementAndGet();
        txBytes.addAndGet(bytes);
    }

    /** One frame of {@code bytes} handed to the guest. */
    public void received(final long bytes)
    {
        rxFrames.incrementAndGet();
        rxBytes.addAndGet(bytes);
    }

    public void txError()
    {
        txErrors.incrementAndGet();
    }

    public void txDrop()
    {
        txDropped.incrementAndGet();
    }

    public void rxDrop()
    {
        rxDropped.incrementAndGet();
    }

    public long txFrames()
    {
        return txFrames.get();
    }

    public long txBytes()
    {
        return txBytes.get();
    }

    /** Tx frames failed by the path (link down, device gone, a fault). */
    public long txErrors()
    {
        return txErrors.get();
    }

    /** Tx frames the card refused: shorter than an Ethernet header, too long, too many segments. */
    public long txDropped()
    {
        return txDropped.get();
    }

    public long rxFrames()
    {
        return rxFrames.get();
    }

    public long rxBytes()
    {
        return rxBytes.get();
    }

    /** Rx frames lost: a guest buffer too small for them, a full ring, a fence, a hung card. */
    public long rxDropped()
    {
        return rxDropped.get();
    }
}
