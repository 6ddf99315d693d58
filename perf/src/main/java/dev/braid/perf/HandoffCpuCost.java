package dev.braid.perf;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * Load-robust companion to {@link CompletionHandoffBenchmark#sameThreadBatch}: CPU nanoseconds of
 * the calling thread per completion (offer a batch of 64, drain it), so time lost to other processes
 * on a shared machine is not counted. One implementation per JVM, so call sites stay monomorphic.
 *
 * <p>Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks.jar
 * dev.braid.perf.HandoffCpuCost <braid|jctools|agrona|disruptor> [rounds]}
 */
public final class HandoffCpuCost
{
    private static final int BATCH = 64;
    private static final int BATCHES_PER_ROUND = 100_000;

    private HandoffCpuCost()
    {
    }

    public static void main(final String[] args)
    {
        final String impl = args.length > 0 ? args[0] : "braid";
        final int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        final CompletionHandoff handoff = CompletionHandoff.create(impl, 1024);
        final CompletionHandoff.Producer producer = handoff.newProducer();
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final double[] nanosPerOp = new double[rounds];
        long token = 0;
        for (int warmup = 0; warmup < 5; warmup++)
        {
            token = run(handoff, producer, token);
        }
        for (int r = 0; r < rounds; r++)
        {
            final long start = threads.getCurrentThreadCpuTime();
            token = run(handoff, producer, token);
            nanosPerOp[r] = (threads.getCurrentThreadCpuTime() - start) / (double)(BATCH * (long)BATCHES_PER_ROUND);
        }
        Arrays.sort(nanosPerOp);
        System.out.printf("%s cpu-ns/completion median=%.2f min=%.2f max=%.2f rounds=%d checksum=%d%n",
            impl, nanosPerOp[rounds / 2], nanosPerOp[0], nanosPerOp[rounds - 1], rounds, handoff.checksum());
    }

    private static long run(final CompletionHandoff handoff, final CompletionHandoff.Producer producer, final long first)
    {
        long token = first;
        for (int b = 0; b < BATCHES_PER_ROUND; b++)
        {
            for (int i = 0; i < BATCH; i++)
            {
                if (!producer.offer(token, 0, i))
                {
                    throw new IllegalStateException("full in a same-thread batch");
                }
                token++;
            }
            int drained = 0;
            while (drained < BATCH)
            {
                drained += handoff.drain(BATCH);
            }
        }
        return token;
    }
}
