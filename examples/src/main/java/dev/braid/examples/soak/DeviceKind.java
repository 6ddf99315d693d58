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
     * For the kinds whose request chains header, data and status descriptors (blk, scsi): refuses a
     * queue depth below 3, whose ring could not hold one request.
     */
    static void requireThreeDescriptorRequests(final SoakConfig config, final String device)
    {
        if (config.queueDepth < 3)
        {
            throw new UsageException("--queue-depth must be at least 3 for --device " + device + " (a request takes header, " +
                "data and status descriptors): " + config.queueDepth);
        }
    }

    /**
     * Builds the device, its simulated cards and one verifying guest per queue.
     *
     * @param clock        the time base of cards and device (virtual in deterministic mode).
     * @param onAgentAdded receives agents that appear later (a hot-added card's workers).
     */
    KindRig build(SoakConfig config, NanoClock clock, Consumer<Agent> onAgentAdded);
}
