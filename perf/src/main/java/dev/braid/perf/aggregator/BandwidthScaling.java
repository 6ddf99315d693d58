package dev.braid.perf.aggregator;

import dev.braid.sim.BandwidthCap;
import dev.braid.sim.LatencyModel;

/**
 * Bandwidth scaling of one aggregated virtio-blk queue over N bandwidth-capped sim cards, in
 * VIRTUAL time (deterministic scheduler), so the result does not depend on the machine's cores.
 * Each card is capped at {@code capMBps} MB/s (burst: one request) and adds a fixed 20 us service
 * time; the guest keeps 64 requests of 64 KiB (reads and writes alternating) outstanding on one
 * split queue; the device sprays requests over the cards (least outstanding). After a warm-up the
 * bytes completed to the guest in a measured window give the throughput; the ratio to one card
 * should reach 0.95 x N.
 *
 * <p>Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks.jar
 * dev.braid.perf.aggregator.BandwidthScaling [capMBps=200] [windowMillis=500] [seed=1]}
 */
public final class BandwidthScaling
{
    private static final int REQUEST_BYTES = 64 * 1024;

    private BandwidthScaling()
    {
    }

    public static void main(final String[] args)
    {
        final long capMBps = args.length > 0 ? Long.parseLong(args[0]) : 200;
        final long windowNanos = (args.length > 1 ? Long.parseLong(args[1]) : 500) * 1_000_000L;
        final long seed = args.length > 2 ? Long.parseLong(args[2]) : 1;
        System.out.printf("cap %d MB/s per card, 64 KiB requests, depth 64, window %d ms virtual, seed %d%n",
            capMBps, windowNanos / 1_000_000, seed);
        System.out.printf("%5s %12s %10s %10s %6s %s%n", "cards", "MB/s", "ratio", "goal", "met", "per-card share");
        double one = 0;
        for (final int cards : new int[] {1, 2, 4, 8})
        {
            final BlkBenchRig.Options options = new BlkBenchRig.Options();
            options.cards = cards;
            options.requestBytes = REQUEST_BYTES;
            options.depth = 64;
            options.latency = LatencyModel.fixed(20_000);
            options.bandwidth = i -> BandwidthCap.bytesPerSecond(capMBps * 1_000_000L, REQUEST_BYTES);
            final VirtualTimeLoop loop = new VirtualTimeLoop(seed, options);
            loop.scheduler.runFor(50_000_000L);
            final long bytesBefore = loop.rig.guest.bytes();
            final long[] cardBefore = new long[cards];
            for (int i = 0; i < cards; i++)
            {
                cardBefore[i] = loop.rig.disks[i].bytes();
            }
            final long start = loop.clock.nanoTime();
            loop.scheduler.runFor(windowNanos);
            final long elapsed = loop.clock.nanoTime() - start;
            final double mbps = (loop.rig.guest.bytes() - bytesBefore) * 1_000.0 / elapsed;
            if (loop.rig.guest.errors() != 0)
            {
                throw new IllegalStateException("requests failed: " + loop.rig.guest.errors());
            }
            if (cards == 1)
            {
                one = mbps;
            }
            final StringBuilder shares = new StringBuilder();
            final long total = loop.rig.guest.bytes() - bytesBefore;
            for (int i = 0; i < cards; i++)
            {
                shares.append(String.format("%.1f%% ", 100.0 * (loop.rig.disks[i].bytes() - cardBefore[i]) / total));
            }
            final double ratio = mbps / one;
            System.out.printf("%5d %12.1f %10.3f %10.2f %6s %s%n", cards, mbps, ratio, 0.95 * cards,
                ratio >= 0.95 * cards ? "yes" : "NO", shares.toString().trim());
        }
    }
}
