package dev.braid.perf.virtio;

import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;

/**
 * A device thread that busy-polls one queue: pops every available chain, completes each at once
 * with its writable length, and publishes once per drained batch (at most {@code maxBatch}).
 * Optionally asks {@code needsInterrupt} after each publish, the store-load fence that a device
 * able to sleep pays. Owns the queue while running.
 */
final class PollingDevice implements Runnable
{
    private final DeviceQueue queue;
    private final DescriptorChain chain;
    private final int maxBatch;
    private final boolean eventChecks;
    private volatile boolean running = true;
    private volatile long completed;
    private volatile long failures;
    private Thread thread;

    PollingDevice(final DeviceQueue queue, final int maxBatch, final boolean eventChecks)
    {
        this.queue = queue;
        this.chain = new DescriptorChain(queue.size());
        this.maxBatch = maxBatch;
        this.eventChecks = eventChecks;
    }

    void start()
    {
        thread = new Thread(this, "virtio-device");
        thread.setDaemon(true);
        thread.start();
    }

    void stop() throws InterruptedException
    {
        running = false;
        thread.join();
    }

    long completed()
    {
        return completed;
    }

    long failures()
    {
        return failures;
    }

    public void run()
    {
        final DeviceQueue queue = this.queue;
        final DescriptorChain chain = this.chain;
        long done = 0;
        long bad = 0;
        int idle = 0;
        while (running)
        {
            int batch = 0;
            while (batch < maxBatch)
            {
                final int status = queue.pop(chain);
                if (status == ChainStatus.EMPTY)
                {
                    break;
                }
                if (status != ChainStatus.POPPED)
                {
                    bad++;
                    if (queue.isBroken())
                    {
                        break;
                    }
                }
                queue.addUsed(chain.id(), status == ChainStatus.POPPED ? (int)chain.writableBytes() : 0);
                batch++;
            }
            if (batch == 0)
            {
                idle = RoundTripBackoff.idle(idle);
                continue;
            }
            idle = 0;
            queue.publishUsed();
            if (eventChecks)
            {
                queue.needsInterrupt();
            }
            done += batch;
            // Plain volatile stores once per batch: read only at tear-down.
            completed = done;
            failures = bad;
        }
    }
}
