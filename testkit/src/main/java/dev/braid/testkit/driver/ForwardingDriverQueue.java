package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;

/**
 * A {@link DriverQueue} that passes everything to the queue it wraps: the base of the guest-side
 * taps (latency, reference model). A subclass overrides what it watches, and sees every used
 * element in {@link #observeUsed} before the reaper's own consumer does. Same thread as the
 * wrapped queue.
 */
public abstract class ForwardingDriverQueue implements DriverQueue, UsedConsumer
{
    protected final DriverQueue inner;
    private UsedConsumer downstream;

    protected ForwardingDriverQueue(final DriverQueue inner)
    {
        this.inner = inner;
    }

    /** Called for each used element reaped, before it reaches the reaper's consumer. */
    protected void observeUsed(final int id, final int len)
    {
    }

    public final void onUsed(final int id, final int len)
    {
        observeUsed(id, len);
        downstream.onUsed(id, len);
    }

    public int size()
    {
        return inner.size();
    }

    public boolean eventIdx()
    {
        return inner.eventIdx();
    }

    public RingLayout layout()
    {
        return inner.layout();
    }

    public GuestMemory memory()
    {
        return inner.memory();
    }

    public int addChain(final BufferChain chain, final boolean indirect)
    {
        return inner.addChain(chain, indirect);
    }

    public int addBuffer(final long gpa, final int length, final boolean deviceWritable)
    {
        return inner.addBuffer(gpa, length, deviceWritable);
    }

    public void publish()
    {
        inner.publish();
    }

    public boolean needsKick()
    {
        return inner.needsKick();
    }

    public int reap(final UsedConsumer consumer)
    {
        downstream = consumer;
        return inner.reap(this);
    }

    public int reap(final UsedConsumer consumer, final int limit)
    {
        downstream = consumer;
        return inner.reap(this, limit);
    }

    public boolean hasPendingUsed()
    {
        return inner.hasPendingUsed();
    }

    public void enableInterrupts()
    {
        inner.enableInterrupts();
    }

    public void disableInterrupts()
    {
        inner.disableInterrupts();
    }

    public void interruptAfter(final int n)
    {
        inner.interruptAfter(n);
    }

    public int numFree()
    {
        return inner.numFree();
    }

    public int inFlight()
    {
        return inner.inFlight();
    }

    public int deviceFaults()
    {
        return inner.deviceFaults();
    }

    public int lastDeviceFault()
    {
        return inner.lastDeviceFault();
    }

    public boolean broken()
    {
        return inner.broken();
    }

    public void reset()
    {
        inner.reset();
    }
}
