package dev.braid.aggregator.net;

import dev.braid.aggregator.AggregatedDevice;
import org.agrona.concurrent.Agent;

import java.util.List;

/**
 * An aggregated virtio-net device as built by {@link NetAggregation}: the generic
 * {@link AggregatedDevice} (agents, cards, health, stats) plus the net state the transport shows
 * the guest (config space with status and generation) and the per-queue handlers.
 */
public final class NetDevice
{
    private final AggregatedDevice device;
    private final NetDeviceState state;
    private final NetAnnouncer announcer;
    private final NetRxHandler[] rx;
    private final NetTxHandler[] tx;
    private final NetControlHandler control;

    NetDevice(
        final AggregatedDevice device, final NetDeviceState state, final NetAnnouncer announcer,
        final NetRxHandler[] rx, final NetTxHandler[] tx, final NetControlHandler control)
    {
        this.device = device;
        this.state = state;
        this.announcer = announcer;
        this.rx = rx;
        this.tx = tx;
        this.control = control;
    }

    public AggregatedDevice device()
    {
        return device;
    }

    /** Every agent to run (front queues, card workers, controller, control plane). */
    public List<Agent> agents()
    {
        return device.agents();
    }

    public NetDeviceState state()
    {
        return state;
    }

    public NetAnnouncer announcer()
    {
        return announcer;
    }

    public int queuePairs()
    {
        return rx.length;
    }

    /** The guest (and front) queue index of pair {@code pair}'s rx queue. */
    public static int rxQueueIndex(final int pair)
    {
        return 2 * pair;
    }

    public static int txQueueIndex(final int pair)
    {
        return 2 * pair + 1;
    }

    /** The control queue's index, or -1 when the device has none. */
    public int controlQueueIndex()
    {
        return control == null ? -1 : 2 * rx.length;
    }

    public NetRxHandler rxHandler(final int pair)
    {
        return rx[pair];
    }

    public NetTxHandler txHandler(final int pair)
    {
        return tx[pair];
    }

    /** The control queue's handler, or null. */
    public NetControlHandler controlHandler()
    {
        return control;
    }
}
