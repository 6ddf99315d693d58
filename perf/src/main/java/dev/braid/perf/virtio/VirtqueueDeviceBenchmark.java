package dev.braid.perf.virtio;

import dev.braid.testkit.driver.UsedConsumer;
import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

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
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public class VirtqueueDeviceBenchmark
{
    static final int QUEUE_SIZE = 256;
    static final int BATCH = 64;

    @Param({"split", "packed"})
    public String ring;

    @Param({"1", "4"})
    public int descriptors;

    @Param({"false", "true"})
    public boolean indirect;

    @Param({"raw", "model"})
    public String refill;

    private PrefilledRing prefilled;
    private DeviceQueue device;
    private DescriptorChain chain;
    private boolean raw;
    private int writtenLength;
    private long badPops;
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
        prefilled = new PrefilledRing("packed".equals(ring), QUEUE_SIZE, descriptors, indirect, false);
        device = prefilled.device;
        chain = new DescriptorChain(QUEUE_SIZE);
        raw = "raw".equals(refill);
        writtenLength = (int)prefilled.writtenLength;
        if (prefilled.chains < BATCH)
        {
            throw new IllegalStateException("ring holds fewer chains than a batch: " + prefilled.chains);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        if (badPops != 0 || device.isBroken() || prefilled.driver.deviceFaults() != 0)
        {
            throw new IllegalStateException("benchmark ring went wrong: badPops=" + badPops + " " + device);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long popAddUsedPublish()
    {
        final DeviceQueue device = this.device;
        final DescriptorChain chain = this.chain;
        long bytes = 0;
        for (int i = 0; i < BATCH; i++)
        {
            if (device.pop(chain) != ChainStatus.POPPED)
            {
                badPops++;
                continue;
            }
            bytes += chain.writableBytes();
            device.addUsed(chain.id(), writtenLength);
        }
        device.publishUsed();
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
