package dev.braid.aggregator.net;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.CardPort;
import dev.braid.virtio.card.NetCard;

/**
 * Programs every card of a net device with what the guest asked through the control queue: the
 * device MAC and the rx mode. All cards accept the device MAC, so any of them can carry any flow.
 */
final class NetCardFilter
{
    private final NetDeviceState state;
    private AggregatedDevice<NetCard> device;

    NetCardFilter(final NetDeviceState state)
    {
        this.state = state;
    }

    void attach(final AggregatedDevice<NetCard> device)
    {
        this.device = device;
    }

    /** Programs every card now. Control-queue thread. */
    void applyToAll()
    {
        if (device == null)
        {
            return;
        }
        for (int card = 0; card < device.maxCards(); card++)
        {
            apply(device.port(card));
        }
    }

    /** Programs one card; false when there is none at that index. */
    boolean apply(final CardPort<NetCard> port)
    {
        if (port == null || port.isRemoved())
        {
            return false;
        }
        final NetCard card = port.card();
        card.setMacAddress(state.macBytes());
        card.setRxMode(state.cardPromiscuous(), state.cardAllMulticast());
        return true;
    }
}
