package dev.braid.perf.aggregator;

import org.agrona.concurrent.Agent;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * The load-robust companion of {@link AggregatedBlkBenchmark}: runs the same one-thread loops and
 * divides the thread's CPU time ({@link ThreadMXBean}) by the requests completed to the guest, so
 * time the scheduler gives to other processes is not counted. Prints the median of the rounds.
 *
 * <p>Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks.jar
 * dev.braid.perf.aggregator.BlkCpuCost [rounds] [clock: system|virtual] [cards, 0 = direct: 0,1,2,4,8]}
 */
public final class BlkCpuCost
{
    private static final long REQUESTS_PER_ROUND = 2_000_000;

    private BlkCpuCost()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        final String clock = args.length > 1 ? args[1] : "system";
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double direct = 0;
        System.out.printf("clock=%s, %d rounds of %d requests after 3 warm-up rounds%n", clock, rounds,
            REQUESTS_PER_ROUND);
        System.out.printf("%-12s %14s %16s %10s%n", "mode", "CPU ns/req", "M req/CPU-s", "overhead");
        final int[] configs = Arrays.stream((args.length > 2 ? args[2] : "0,1,2,4,8").split(","))
            .mapToInt(Integer::parseInt).toArray();
        for (final int cards : configs)
        {
            final BlkBenchRig.Options options = new BlkBenchRig.Options();
            options.cards = Math.max(1, cards);
            options.clock = AggregatedBlkBenchmark.clock(clock);
            final BlkBenchRig rig = new BlkBenchRig(options);
            final Agent[] agents = cards == 0 ? new Agent[] {rig.guest, rig.direct()} :
                BlkBenchRig.loop(rig.guest, rig.aggregated().agents());
            final double[] perRequest = new double[rounds];
            for (int r = -3; r < rounds; r++)
            {
                final long start = threads.getCurrentThreadCpuTime();
                final long before = rig.guest.completed();
                while (rig.guest.completed() - before < REQUESTS_PER_ROUND)
                {
                    for (final Agent agent : agents)
                    {
                        agent.doWork();
                    }
                }
                final double ns = (double)(threads.getCurrentThreadCpuTime() - start) / (rig.guest.completed() - before);
                if (r >= 0)
                {
                    perRequest[r] = ns;
                }
            }
            if (rig.guest.errors() != 0)
            {
                throw new IllegalStateException("requests failed: " + rig.guest.errors());
            }
            Arrays.sort(perRequest);
            final double median = perRequest[rounds / 2];
            if (cards == 0)
            {
                direct = median;
            }
            System.out.printf("%-12s %14.1f %16.2f %10s%n", cards == 0 ? "direct" : "aggregated-" + cards, median,
                1_000.0 / median, cards == 0 || direct == 0 ? "" : String.format("%.1f%%", 100.0 * (1 - direct / median)));
        }
    }
}
