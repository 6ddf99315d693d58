package dev.braid.perf.virtio;

import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * What the device-side virtqueue benchmarks share: a prefilled ring of each layout, chain length
 * and indirect choice, and the device's drain of one {@link #BATCH} (pop and addUsed each chain,
 * then publishUsed once). JMH takes the parameters, the tear-down check and the class annotations
 * from this superclass; each subclass sizes the ring in its own trial set-up.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public abstract class DeviceSideBenchmark
{
    static final int BATCH = 64;

    @Param({"split", "packed"})
    public String ring;

    @Param({"1", "4"})
    public int descriptors;

    @Param({"false", "true"})
    public boolean indirect;

    PrefilledRing prefilled;
    private DeviceQueue device;
    private DescriptorChain chain;
    private int writtenLength;
    private long badPops;

    /** Builds the ring; fails the trial when it holds fewer than {@code minChains} chains. */
    final void prefill(final int queueSize, final int chainCapacity, final int minChains)
    {
        prefilled = new PrefilledRing("packed".equals(ring), queueSize, descriptors, indirect, false);
        device = prefilled.device;
        chain = new DescriptorChain(chainCapacity);
        writtenLength = (int)prefilled.writtenLength;
        if (prefilled.chains < minChains)
        {
            throw new IllegalStateException("ring holds " + prefilled.chains + " chains, fewer than " + minChains);
        }
    }

    @TearDown(Level.Trial)
    public void checkRing()
    {
        if (badPops != 0 || device.isBroken() || prefilled.driver.deviceFaults() != 0)
        {
            throw new IllegalStateException("benchmark ring went wrong: badPops=" + badPops + " " + device);
        }
    }

    /** Pops, completes and publishes {@link #BATCH} chains; returns the writable bytes they offered. */
    final long drainBatch()
    {
        final DeviceQueue device = this.device;
        final DescriptorChain chain = this.chain;
        final int writtenLength = this.writtenLength;
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
        return bytes;
    }
}
