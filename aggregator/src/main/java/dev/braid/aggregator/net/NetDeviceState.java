package dev.braid.aggregator.net;

import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.net.NetConfig;
import dev.braid.virtio.net.VirtioNet;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * What the guest has told an aggregated net device and what it must show the guest: the config
 * space (MAC, status with LINK_UP and ANNOUNCE, max queue pairs), its generation, the rx filter
 * state the control queue set, and the active queue pairs.
 *
 * <p>Written by two threads, rarely: the control queue's (guest commands) and the control plane's
 * (announce after a failover). Every method is synchronized; none is on a data path. The guest's
 * IPv4 addresses, learned from tx frames on the hot path (up to {@link #MAX_GUEST_IPV4}, the
 * oldest replaced), are a separate atomic array.
 */
public final class NetDeviceState
{
    private final NetConfig config = new NetConfig();
    private final byte[] configBytes = new byte[config.size()];
    private long features;
    private int generation;
    private int activePairs = 1;
    private boolean promiscuous;
    private boolean allMulticast;
    private long unicastEntries;
    private long multicastEntries;
    private int filterVersion;
    private long announcesRequested;
    private long announcesAcked;
    /** Addresses a guest's announce covers: enough for an interface with a few aliases. */
    public static final int MAX_GUEST_IPV4 = 4;
    private final AtomicIntegerArray guestIpv4 = new AtomicIntegerArray(MAX_GUEST_IPV4);
    private int nextGuestIpv4;

    public NetDeviceState(final long mac, final int maxQueuePairs, final int mtu)
    {
        config.mac(mac).maxVirtqueuePairs(maxQueuePairs).mtu(mtu).linkUp(true).speed(0xFFFF_FFFFL).duplex(0xFF);
    }

    /** The negotiated features (ANNOUNCE is only shown to a driver that negotiated GUEST_ANNOUNCE). */
    public synchronized NetDeviceState features(final long negotiated)
    {
        features = negotiated;
        return this;
    }

    public synchronized long features()
    {
        return features;
    }

    public synchronized long mac()
    {
        return config.mac();
    }

    /** The MAC as 6 bytes, first octet first; a new array (control path only). */
    public synchronized byte[] macBytes()
    {
        final long mac = config.mac();
        final byte[] bytes = new byte[VirtioNet.ETH_ALEN];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = (byte)(mac >>> (8 * (bytes.length - 1 - i)));
        }
        return bytes;
    }

    synchronized void mac(final long mac)
    {
        config.mac(mac);
        generation++;
        filterVersion++;
    }

    public synchronized int maxQueuePairs()
    {
        return config.maxVirtqueuePairs();
    }

    public synchronized int mtu()
    {
        return config.mtu();
    }

    /** The config status field (LINK_UP, ANNOUNCE). */
    public synchronized int status()
    {
        return config.status();
    }

    public synchronized boolean announcePending()
    {
        return config.announce();
    }

    public synchronized int configGeneration()
    {
        return generation;
    }

    /** A transport read of the config space; 0 outside it. */
    public synchronized long readConfig(final int offset, final int width)
    {
        return config.read(offset, width);
    }

    /** A copy of the whole config space (vhost-user GET_CONFIG); a new array. */
    public synchronized byte[] configBytes()
    {
        config.copyTo(configBytes, 0);
        return configBytes.clone();
    }

    /**
     * Sets VIRTIO_NET_S_ANNOUNCE and moves the generation, when the driver negotiated
     * GUEST_ANNOUNCE. Returns whether the guest must get a config interrupt.
     */
    synchronized boolean requestAnnounce()
    {
        if (!VirtioFeatures.has(features, VirtioNet.VIRTIO_NET_F_GUEST_ANNOUNCE))
        {
            return false;
        }
        announcesRequested++;
        config.announce(true);
        generation++;
        return true;
    }

    /** ANNOUNCE_ACK: the guest has announced itself. */
    synchronized void ackAnnounce()
    {
        announcesAcked++;
        if (config.announce())
        {
            config.announce(false);
            generation++;
        }
    }

    public synchronized long announcesRequested()
    {
        return announcesRequested;
    }

    public synchronized long announcesAcked()
    {
        return announcesAcked;
    }

    public synchronized int activePairs()
    {
        return activePairs;
    }

    synchronized void activePairs(final int pairs)
    {
        activePairs = pairs;
    }

    synchronized void rxMode(final int command, final boolean on)
    {
        if (command == VirtioNet.VIRTIO_NET_CTRL_RX_PROMISC)
        {
            promiscuous = on;
        }
        else
        {
            allMulticast = on;
        }
        filterVersion++;
    }

    synchronized void macTable(final long unicast, final long multicast)
    {
        unicastEntries = unicast;
        multicastEntries = multicast;
        filterVersion++;
    }

    public synchronized boolean promiscuous()
    {
        return promiscuous;
    }

    public synchronized boolean allMulticast()
    {
        return allMulticast;
    }

    /**
     * The promiscuous bit the cards get: the guest's, or on when its MAC table lists extra unicast
     * addresses, which the card SPI cannot filter exactly (a NIC whose filter overflows does the same).
     */
    public synchronized boolean cardPromiscuous()
    {
        return promiscuous || unicastEntries > 0;
    }

    /** The all-multicast bit the cards get: the guest's, or on when its MAC table lists multicast groups. */
    public synchronized boolean cardAllMulticast()
    {
        return allMulticast || multicastEntries > 0;
    }

    /** Moves whenever the MAC or the rx filter changes, so cards that missed it are reprogrammed. */
    public synchronized int filterVersion()
    {
        return filterVersion;
    }

    /** The guest's first IPv4 address (network order as an int), as configured or learned from its tx; 0 when unknown. */
    public int guestIpv4()
    {
        return guestIpv4.get(0);
    }

    /** Learned address {@code i} (0..{@link #MAX_GUEST_IPV4}-1), 0 for an empty slot. */
    public int learnedIpv4(final int i)
    {
        return guestIpv4.get(i);
    }

    /** Whether {@code address} is among the learned ones. Any thread; no allocation. */
    public boolean knowsGuestIpv4(final int address)
    {
        for (int i = 0; i < MAX_GUEST_IPV4; i++)
        {
            if (guestIpv4.get(i) == address)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Adds {@code address} (not 0) to the learned ones, replacing the oldest when all are taken.
     * Rare (a new address), so it may lock: tx queues of several pairs learn concurrently.
     */
    public synchronized void guestIpv4(final int address)
    {
        if (address == 0 || knowsGuestIpv4(address))
        {
            return;
        }
        for (int i = 0; i < MAX_GUEST_IPV4; i++)
        {
            if (guestIpv4.get(i) == 0)
            {
                guestIpv4.set(i, address);
                return;
            }
        }
        guestIpv4.set(nextGuestIpv4, address);
        nextGuestIpv4 = (nextGuestIpv4 + 1) % MAX_GUEST_IPV4;
    }
}
