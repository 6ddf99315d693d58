package dev.braid.aggregator.net;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.CardPort;
import dev.braid.aggregator.ControlPlaneListener;
import dev.braid.aggregator.InterruptSink;
import dev.braid.virtio.card.NetCard;

/**
 * Makes a failover visible to the network, as bonding does: when a card is fenced, the device
 * sends a gratuitous ARP for its MAC through a surviving card, so switches relearn the port, and
 * (when the driver negotiated GUEST_ANNOUNCE) sets VIRTIO_NET_S_ANNOUNCE with a config interrupt,
 * so the guest announces its own addresses too and acks. It also reprograms cards whose filter is
 * behind the guest's (a card added or back since the last control command).
 *
 * <p>Runs on the control-plane thread. An announce that no card can send yet (all fenced, no link)
 * stays due and is retried every duty cycle.
 */
public final class NetAnnouncer implements ControlPlaneListener
{
    private final NetDeviceState state;
    private final NetCardFilter filter;
    private final InterruptSink interrupts;
    private final int configuredIpv4;
    private AggregatedDevice<NetCard> device;
    private int[] appliedFilter = new int[0];
    private boolean arpDue;
    private long arpsSent;
    private long addressesAnnounced;
    private long failovers;
    private int lastCard = -1;

    NetAnnouncer(
        final NetDeviceState state, final NetCardFilter filter, final InterruptSink interrupts, final int configuredIpv4)
    {
        this.state = state;
        this.filter = filter;
        this.interrupts = interrupts;
        this.configuredIpv4 = configuredIpv4;
    }

    void attach(final AggregatedDevice<NetCard> device)
    {
        this.device = device;
        appliedFilter = new int[device.maxCards()];
        java.util.Arrays.fill(appliedFilter, Integer.MIN_VALUE);
    }

    public void onCardFenced(final int card, final long nowNanos)
    {
        failovers++;
        arpDue = true;
        if (state.requestAnnounce())
        {
            interrupts.onConfigChange();
        }
    }

    public int doWork(final long nowNanos)
    {
        if (device == null)
        {
            return 0;
        }
        int work = reconcileFilters();
        if (arpDue && sendArp())
        {
            arpDue = false;
            work++;
        }
        return work;
    }

    private int reconcileFilters()
    {
        final int version = state.filterVersion();
        int work = 0;
        for (int card = 0; card < appliedFilter.length; card++)
        {
            final CardPort<NetCard> port = device.port(card);
            if (port != null && appliedFilter[card] != version && filter.apply(port))
            {
                appliedFilter[card] = version;
                work++;
            }
        }
        return work;
    }

    /** One gratuitous ARP per address: the configured one and every one learned from the guest's tx (or one for 0 when none). */
    private boolean sendArp()
    {
        final byte[] mac = state.macBytes();
        // Rotate the starting card so repeated failovers do not always pick the same survivor first.
        final int cards = device.maxCards();
        for (int i = 1; i <= cards; i++)
        {
            final int card = (lastCard + i) % cards;
            final CardPort<NetCard> port = device.port(card);
            if (port == null || port.isFenced() || !port.card().isLinkUp())
            {
                continue;
            }
            if (announceAll(port.card(), mac))
            {
                lastCard = card;
                arpsSent++;
                return true;
            }
        }
        return false;
    }

    private boolean announceAll(final NetCard card, final byte[] mac)
    {
        int sent = 0;
        if (configuredIpv4 != 0 && card.announce(mac, configuredIpv4))
        {
            sent++;
        }
        for (int i = 0; i < NetDeviceState.MAX_GUEST_IPV4; i++)
        {
            final int ip = state.learnedIpv4(i);
            if (ip != 0 && ip != configuredIpv4 && card.announce(mac, ip))
            {
                sent++;
            }
        }
        if (sent == 0 && configuredIpv4 == 0 && state.guestIpv4() == 0 && card.announce(mac, 0))
        {
            sent++; // no address yet: the frame still makes switches relearn the MAC's port
        }
        addressesAnnounced += sent;
        return sent > 0;
    }

    /** Gratuitous ARP frames sent, one per address per announce. Control-plane thread (tests read it when quiet). */
    public long addressesAnnounced()
    {
        return addressesAnnounced;
    }

    /** Announces (failovers made visible) sent through a survivor. Control-plane thread (tests read it when quiet). */
    public long arpsSent()
    {
        return arpsSent;
    }

    /** Cards fenced since the start. */
    public long failovers()
    {
        return failovers;
    }

    /** Whether an announce is still waiting for a card to send it. */
    public boolean arpDue()
    {
        return arpDue;
    }
}
