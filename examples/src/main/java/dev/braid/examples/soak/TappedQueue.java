package dev.braid.examples.soak;

import dev.braid.virtio.driver.BufferChain;
import dev.braid.virtio.driver.DriverQueue;
import dev.braid.virtio.driver.RingLayout;
import dev.braid.virtio.driver.UsedConsumer;
import dev.braid.virtio.memory.GuestMemory;

/**
 * A guest {@link DriverQueue} that tells a {@link GuestModel} what the guest posts and reaps, and
 * nothing else: the model's only window on the run.
 */
public final class TappedQueue implements DriverQueue, UsedConsumer
{
    private final DriverQueue inner;
    private final int queue;
    private final GuestModel model;
    private final BufferChain single = new BufferChain(1);
    private UsedConsumer downstream;

    public TappedQueue(final DriverQueue inner, final int queue, final GuestModel model)
    {
        this.inner = inner;
        this.queue = queue;
        this.model = model;
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
        final int id = inner.addChain(chain, indirect);
        if (id >= 0)
        {
            model.onPost(queue, id, chain, inner.memory());
        }
        return id;
    }

    public int addBuffer(final long gpa, final int length, final boolean deviceWritable)
    {
        final int id = inner.addBuffer(gpa, length, deviceWritable);
        if (id >= 0)
        {
            single.clear().add(gpa, length, deviceWritable);
            model.onPost(queue, id, single, inner.memory());
        }
        return id;
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

    public void onUsed(final int id, final int len)
    {
        model.onUsed(queue, id, len, inner.memory());
        downstream.onUsed(id, len);
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
