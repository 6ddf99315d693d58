package dev.braid.vhostuser;

import dev.braid.sim.FaultTarget;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.scsi.SimHba;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import org.agrona.concurrent.SystemNanoClock;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

/**
 * Two sim cards over one store, as the real-guest block tests serve them: either card reaches every
 * block, so a failover from {@link #a} to {@link #b} loses nothing the guest wrote. {@code served}
 * counts what a card has served (completions for a disk, commands for an HBA).
 */
record TwoSimCards<C extends FaultTarget>(SharedBlockStore store, C a, C b, ToLongFunction<C> served)
{
    /** Two sim disks of {@code sectors}, 20-100 us latency, {@code queues} card queues of 128 each. */
    static TwoSimCards<SimDisk> disks(final long sectors, final int queues)
    {
        final SharedBlockStore store = new SharedBlockStore(sectors);
        return new TwoSimCards<>(store, disk("a", store, queues), disk("b", store, queues), SimDisk::completed);
    }

    /**
     * Two sim HBAs that reach one LUN (target 0, LUN 0) of {@code blocks} 512-byte blocks, {@code
     * queues} queues of 128 each; b answers slower than a (40 us against 20 us a command).
     */
    static TwoSimCards<SimHba> hbas(final long blocks, final int queues)
    {
        final SharedBlockStore store = new SharedBlockStore(blocks);
        final SimTarget[] targets = {new SimTarget(new SimLun(store, new AtomicLong(), "BRAIDSCSI0", 0x5C51))};
        final SystemNanoClock clock = SystemNanoClock.INSTANCE;
        return new TwoSimCards<>(store, new SimHba("hba-a", clock, targets, queues, 128, 20_000),
            new SimHba("hba-b", clock, targets, queues, 128, 40_000), SimHba::commandsSubmitted);
    }

    private static SimDisk disk(final String name, final SharedBlockStore store, final int queues)
    {
        return SimDisk.builder(name, store).latency(LatencyModel.uniform(20_000, 100_000)).queues(queues, 128).build();
    }

    List<C> cards()
    {
        return List.of(a, b);
    }

    long aServed()
    {
        return served.applyAsLong(a);
    }

    long bServed()
    {
        return served.applyAsLong(b);
    }
}
