package dev.braid.perf.virtio;

import dev.braid.testkit.driver.UsedConsumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The device side of a virtqueue on one thread, over a 256-entry ring kept full: per invocation
 * the device pops {@link #BATCH} chains, completes each with {@code addUsed}, publishes the batch
 * once, and the driver makes the same chains available again. Scores are chains per second.
 *
 * <ul>
 *   <li>{@code refill=raw}: the driver re-arms the ring with the minimum a driver must write
 *       ({@link PrefilledRing#rearm}); the score is dominated by pop + addUsed + publishUsed.</li>
 *   <li>{@code refill=model}: the driver model reaps the used ring and re-posts through
 *       {@code addChain} + {@code publish}, a full guest cycle; the difference to {@code raw} is
 *       the driver model's cost, not the device's.</li>
 * </ul>
 */
public class VirtqueueDeviceBenchmark extends DeviceSideBenchmark
{
    static final int QUEUE_SIZE = 256;

    @Param({"raw", "model"})
    public String refill;

    private boolean raw;
    private final Reaped reaped = new Reaped();

    /** Counts what the driver model reaps; allocated once. */
    static final class Reaped implements UsedConsumer
    {
        long count;

        public void onUsed(final int id, final int len)
        {
            count++;
        }
    }

    @Setup(Level.Trial)
    public void setUp()
    {
        prefill(QUEUE_SIZE, QUEUE_SIZE, BATCH);
        raw = "raw".equals(refill);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long popAddUsedPublish()
    {
        final long bytes = drainBatch();
        refill();
        return bytes;
    }

    private void refill()
    {
        if (raw)
        {
            prefilled.rearm(BATCH);
            return;
        }
        final PrefilledRing ring = prefilled;
        ring.driver.reap(reaped);
        for (int i = 0; i < BATCH; i++)
        {
            ring.driver.addChain(ring.template, ring.indirect);
        }
        ring.driver.publish();
    }
}
