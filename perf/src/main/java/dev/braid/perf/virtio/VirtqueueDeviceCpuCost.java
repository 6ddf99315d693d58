package dev.braid.perf.virtio;

import dev.braid.virtio.queue.ChainStatus;
import dev.braid.virtio.queue.DescriptorChain;
import dev.braid.virtio.queue.DeviceQueue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * Load-robust companion to {@link VirtqueueDeviceDrainBenchmark}: the calling thread's CPU
 * nanoseconds per chain for the same drain (pop + addUsed, publishUsed per 64) over a 32768-entry
 * ring, the re-arm excluded. Time lost to other processes on a shared machine is not counted, so
 * before/after comparisons hold on a loaded machine where wall-clock scores swing 2x. One ring
 * configuration per JVM, so the queue call sites stay monomorphic as in a device.
 *
 * <p>Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks.jar
 * dev.braid.perf.virtio.VirtqueueDeviceCpuCost <split|packed> <descriptors> <indirect> [rounds]}
 */
public final class VirtqueueDeviceCpuCost
{
    private static final int QUEUE_SIZE = VirtqueueDeviceDrainBenchmark.QUEUE_SIZE;
    private static final int CHAINS = VirtqueueDeviceDrainBenchmark.CHAINS;
    private static final int BATCH = VirtqueueDeviceDrainBenchmark.BATCH;
    private static final int DRAINS_PER_ROUND = 200;

    private VirtqueueDeviceCpuCost()
    {
    }

    public static void main(final String[] args)
    {
        final boolean packed = "packed".equals(args[0]);
        final int descriptors = Integer.parseInt(args[1]);
        final boolean indirect = Boolean.parseBoolean(args[2]);
        final int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 15;
        final PrefilledRing ring = new PrefilledRing(packed, QUEUE_SIZE, descriptors, indirect, false);
        final DescriptorChain chain = new DescriptorChain(descriptors);
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final double[] nanosPerChain = new double[rounds];
        long checksum = 0;
        for (int warmup = 0; warmup < 5; warmup++)
        {
            checksum += round(ring, chain, threads, new long[1]);
        }
        for (int r = 0; r < rounds; r++)
        {
            final long[] cpu = new long[1];
            checksum += round(ring, chain, threads, cpu);
            nanosPerChain[r] = cpu[0] / (double)(CHAINS * (long)DRAINS_PER_ROUND);
        }
        if (ring.device.isBroken() || ring.driver.deviceFaults() != 0)
        {
            throw new IllegalStateException("benchmark ring went wrong: " + ring.device);
        }
        Arrays.sort(nanosPerChain);
        System.out.printf("%s descriptors=%d indirect=%b cpu-ns/chain median=%.2f min=%.2f max=%.2f rounds=%d checksum=%d%n",
            args[0], descriptors, indirect, nanosPerChain[rounds / 2], nanosPerChain[0], nanosPerChain[rounds - 1],
            rounds, checksum);
    }

    /** DRAINS_PER_ROUND drains, each timed alone; adds their CPU time to {@code cpu[0]}. */
    private static long round(final PrefilledRing ring, final DescriptorChain chain, final ThreadMXBean threads, final long[] cpu)
    {
        long bytes = 0;
        for (int d = 0; d < DRAINS_PER_ROUND; d++)
        {
            final long start = threads.getCurrentThreadCpuTime();
            bytes += drain(ring.device, chain, (int)ring.writtenLength);
            cpu[0] += threads.getCurrentThreadCpuTime() - start;
            ring.rearm(CHAINS);
        }
        return bytes;
    }

    private static long drain(final DeviceQueue device, final DescriptorChain chain, final int writtenLength)
    {
        long bytes = 0;
        for (int b = 0; b < CHAINS / BATCH; b++)
        {
            for (int i = 0; i < BATCH; i++)
            {
                if (device.pop(chain) != ChainStatus.POPPED)
                {
                    throw new IllegalStateException("pop failed: " + device);
                }
                bytes += chain.writableBytes();
                device.addUsed(chain.id(), writtenLength);
            }
            device.publishUsed();
        }
        return bytes;
    }
}
