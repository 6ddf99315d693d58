package dev.braid.perf.virtio;

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
 * The device side alone: a 32768-entry ring holds at least {@link #CHAINS} available chains before
 * every invocation, and the invocation only drains them (pop + addUsed, publishUsed per
 * {@link #BATCH}). The driver's re-arm runs in an invocation-level setup, outside the measured
 * time; with {@value #CHAINS} chains per invocation, JMH's per-invocation timestamps cost well under
 * 0.1 %. Companion to {@link VirtqueueDeviceBenchmark}'s {@code refill=raw}, which includes the
 * re-arm; the big ring also means the ring is not L1-resident, as in a real guest.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public class VirtqueueDeviceDrainBenchmark
{
    static final int QUEUE_SIZE = 32768;
    /** A whole ring of 4-descriptor chains; every configuration drains the same count. */
    static final int CHAINS = 8192;
    static final int BATCH = 64;

    @Param({"split", "packed"})
    public String ring;

    @Param({"1", "4"})
    public int descriptors;

    @Param({"false", "true"})
    public boolean indirect;

    private PrefilledRing prefilled;
    private DeviceQueue device;
    private DescriptorChain chain;
    private int writtenLength;
    private int toRearm;
    private long badPops;

    @Setup(Level.Trial)
    public void setUp()
    {
        prefilled = new PrefilledRing("packed".equals(ring), QUEUE_SIZE, descriptors, indirect, false);
        device = prefilled.device;
        chain = new DescriptorChain(descriptors);
        writtenLength = (int)prefilled.writtenLength;
        if (prefilled.chains < CHAINS)
        {
            throw new IllegalStateException("ring holds fewer chains than an invocation drains: " + prefilled.chains);
        }
    }

    @Setup(Level.Invocation)
    public void rearm()
    {
        // Only what the previous invocation used: the ring starts full.
        prefilled.rearm(toRearm);
        toRearm = 0;
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
    @OperationsPerInvocation(CHAINS)
    public long drain()
    {
        final DeviceQueue device = this.device;
        final DescriptorChain chain = this.chain;
        long bytes = 0;
        for (int b = 0; b < CHAINS / BATCH; b++)
        {
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
        }
        toRearm = CHAINS;
        return bytes;
    }
}
