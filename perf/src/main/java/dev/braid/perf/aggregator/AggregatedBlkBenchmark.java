package dev.braid.perf.aggregator;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.card.BlockCard;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Aggregated virtio-blk end to end on ONE thread: a {@link LeanBlkGuest} (64 x 4 KiB reads and
 * writes outstanding on a 256-entry split ring) and every agent of the device (HA controller,
 * control plane, front queue, one card worker per card) called in turn, over zero-latency
 * {@link dev.braid.sim.SimDisk}s. {@code direct} is the same guest, ring, parser and one SimDisk
 * with no aggregation ({@link DirectBlkDevice}).
 *
 * <p>One benchmark op is one round of the loop; the {@code requests} aux counter is the number of
 * requests completed to the guest, so its score is requests per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class AggregatedBlkBenchmark
{
    /** Requests completed to the guest. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Requests
    {
        public long requests;

        @Setup(Level.Iteration)
        public void reset()
        {
            requests = 0;
        }
    }

    static NanoClock clock(final String name)
    {
        // "virtual": a clock that never moves, to take clock reads out of the picture.
        return "virtual".equals(name) ? new VirtualClock(1_000_000) : SystemNanoClock.INSTANCE;
    }

    /** What both states share: the clock choice, and the guest and agents one round polls. */
    @State(Scope.Thread)
    public abstract static class Rig
    {
        @Param({"system"})
        public String clock;

        LeanBlkGuest guest;
        Agent[] agents;

        final BlkBenchRig rig(final int cards)
        {
            final BlkBenchRig.Options options = new BlkBenchRig.Options();
            options.cards = cards;
            options.clock = clock(clock);
            final BlkBenchRig rig = new BlkBenchRig(options);
            guest = rig.guest;
            return rig;
        }
    }

    @State(Scope.Thread)
    public static class Aggregated extends Rig
    {
        @Param({"1", "2", "4", "8"})
        public int cards;

        @Setup(Level.Trial)
        public void setUp()
        {
            final AggregatedDevice<BlockCard> device = rig(cards).aggregated();
            agents = BlkBenchRig.loop(guest, device.agents());
        }
    }

    @State(Scope.Thread)
    public static class Direct extends Rig
    {
        @Setup(Level.Trial)
        public void setUp()
        {
            final BlkBenchRig rig = rig(1);
            agents = new Agent[] {guest, rig.direct()};
        }
    }

    @Benchmark
    public int aggregated(final Aggregated state, final Requests requests) throws Exception
    {
        return round(state.guest, state.agents, requests);
    }

    @Benchmark
    public int direct(final Direct state, final Requests requests) throws Exception
    {
        return round(state.guest, state.agents, requests);
    }

    static int round(final LeanBlkGuest guest, final Agent[] agents, final Requests requests) throws Exception
    {
        final long before = guest.completed();
        int work = 0;
        for (final Agent agent : agents)
        {
            work += agent.doWork();
        }
        requests.requests += guest.completed() - before;
        return work;
    }
}
