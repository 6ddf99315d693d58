package dev.braid.perf.aggregator;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.sim.DeterministicScheduler;
import dev.braid.sim.SimDisk;
import dev.braid.sim.TimerSource;
import dev.braid.sim.VirtualClock;
import dev.braid.virtio.card.BlockCard;
import org.agrona.concurrent.Agent;

/** A {@link BlkBenchRig} whose aggregated device and guest run under a {@link DeterministicScheduler}. */
final class VirtualTimeLoop
{
    final VirtualClock clock;
    final DeterministicScheduler scheduler;
    final BlkBenchRig rig;
    final AggregatedDevice<BlockCard> device;

    VirtualTimeLoop(final long seed, final BlkBenchRig.Options options)
    {
        clock = new VirtualClock();
        options.clock = clock;
        options.seed = seed;
        scheduler = new DeterministicScheduler(seed, clock);
        rig = new BlkBenchRig(options);
        for (final SimDisk disk : rig.disks)
        {
            scheduler.addTimerSource(disk);
        }
        device = rig.aggregated();
        for (final Agent agent : device.agents())
        {
            scheduler.addAgent(agent);
        }
        scheduler.addAgent(rig.guest);
        // Health checks run on the clock: keep virtual time moving in small steps while idle.
        final TimerSource heartbeat = () -> clock.nanoTime() + 100_000;
        scheduler.addTimerSource(heartbeat);
    }
}
