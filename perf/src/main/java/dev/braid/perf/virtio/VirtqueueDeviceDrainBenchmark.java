package dev.braid.perf.virtio;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Setup;

/**
 * The device side alone: a 32768-entry ring holds at least {@link #CHAINS} available chains before
 * every invocation, and the invocation only drains them (pop + addUsed, publishUsed per
 * {@link #BATCH}). The driver's re-arm runs in an invocation-level setup, outside the measured
 * time; with {@value #CHAINS} chains per invocation, JMH's per-invocation timestamps cost well under
 * 0.1 %. Companion to {@link VirtqueueDeviceBenchmark}'s {@code refill=raw}, which includes the
 * re-arm; the big ring also means the ring is not L1-resident, as in a real guest.
 */
public class VirtqueueDeviceDrainBenchmark extends DeviceSideBenchmark
{
    static final int QUEUE_SIZE = 32768;
    /** A whole ring of 4-descriptor chains; every configuration drains the same count. */
    static final int CHAINS = 8192;

    private int toRearm;

    @Setup(Level.Trial)
    public void setUp()
    {
        prefill(QUEUE_SIZE, descriptors, CHAINS);
    }

    @Setup(Level.Invocation)
    public void rearm()
    {
        // Only what the previous invocation used: the ring starts full.
        prefilled.rearm(toRearm);
        toRearm = 0;
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS)
    public long drain()
    {
        long bytes = 0;
        for (int b = 0; b < CHAINS / BATCH; b++)
        {
            bytes += drainBatch();
        }
        toRearm = CHAINS;
        return bytes;
    }
}
