package dev.braid.examples.soak;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import java.util.function.Consumer;

/**
 * One virtio device class (blk, net, scsi) as the soak rig needs it: how to build the aggregated
 * device over simulated cards, the guest workloads that drive and verify it, and the fault targets.
 * A new device class plugs in by implementing this and registering in {@link DeviceKinds}.
 */
public interface DeviceKind
{
    /** The CLI name: blk, net, scsi. */
    String name();

    /** The active-active selector used when none is given. */
    String defaultSelector();

    /** Refuses, with a {@link UsageException}, a configuration this kind cannot run meaningfully. */
    default void validate(final SoakConfig config)
    {
    }

    /**
     * Builds the device, its simulated cards and one verifying guest per queue.
     *
     * @param clock        the time base of cards and device (virtual in deterministic mode).
     * @param onAgentAdded receives agents that appear later (a hot-added card's workers).
     */
    KindRig build(SoakConfig config, NanoClock clock, Consumer<Agent> onAgentAdded);
}
