package dev.braid.examples.soak;

import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.ForwardingDriverQueue;

/**
 * A guest {@link DriverQueue} that tells a {@link GuestModel} what the guest posts and reaps, and
 * nothing else: the model's only window on the run.
 */
public final class TappedQueue extends ForwardingDriverQueue
{
    private final int queue;
    private final GuestModel model;
    private final BufferChain single = new BufferChain(1);

    public TappedQueue(final DriverQueue inner, final int queue, final GuestModel model)
    {
        super(inner);
        this.queue = queue;
        this.model = model;
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

    protected void observeUsed(final int id, final int len)
    {
        model.onUsed(queue, id, len, inner.memory());
    }

}
