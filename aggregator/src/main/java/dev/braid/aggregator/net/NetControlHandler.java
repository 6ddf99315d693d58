package dev.braid.aggregator.net;

import dev.braid.aggregator.LocalRequestHandler;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.NetCtrlParser;
import dev.braid.virtio.net.NetCtrlRequest;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * The virtio-net control queue, answered by the device itself: no card is asked, so every command
 * completes in {@link #prepare} with the ack written (used length 1). What the guest sets for the
 * device (MAC, rx mode, MAC table) is pushed to every card; the queue-pair count is recorded.
 *
 * <p>Commands the cards cannot honour are refused with VIRTIO_NET_ERR rather than acked and
 * ignored: the RX_EXTRA modes (ALLUNI, NOMULTI, NOUNI, NOBCAST). A MAC table with entries beyond
 * the device MAC widens the cards' filter (promiscuous / all-multicast) instead, as a NIC does when
 * its filter table overflows. VLAN filters and guest offloads are acked: no filtering passes all
 * VLANs, and rx frames never carry offload state (header flags 0, gso NONE).
 */
public final class NetControlHandler extends LocalRequestHandler<NetCard>
{
    private final GuestMemory memory;
    private final NetCtrlParser parser;
    private final NetDeviceState state;
    private final NetCardFilter filter;
    private final NetCtrlRequest request = new NetCtrlRequest();
    private long errors;
    private long commands;

    NetControlHandler(
        final GuestMemory memory, final NetCtrlParser parser, final NetDeviceState state, final NetCardFilter filter)
    {
        this.memory = memory;
        this.parser = parser;
        this.state = state;
        this.filter = filter;
    }

    public int prepare(final int slot, final DescriptorChain chain)
    {
        commands++;
        parser.parse(memory, chain, request);
        if (request.outcome() == NetCtrlRequest.COMPLETE_NO_ACK)
        {
            errors++;
            return 0;
        }
        final int ack = request.outcome() == NetCtrlRequest.SUBMIT ? execute() : VirtioNet.VIRTIO_NET_ERR;
        if (ack != VirtioNet.VIRTIO_NET_OK)
        {
            errors++;
        }
        memory.putByte(request.ackGpa(), (byte)ack);
        return 1;
    }

    private int execute()
    {
        switch (request.commandClass())
        {
            case VirtioNet.VIRTIO_NET_CTRL_RX:
                if (request.command() > VirtioNet.VIRTIO_NET_CTRL_RX_ALLMULTI)
                {
                    return VirtioNet.VIRTIO_NET_ERR;
                }
                state.rxMode(request.command(), request.value() != 0);
                filter.applyToAll();
                return VirtioNet.VIRTIO_NET_OK;
            case VirtioNet.VIRTIO_NET_CTRL_MAC:
                if (request.command() == VirtioNet.VIRTIO_NET_CTRL_MAC_ADDR_SET)
                {
                    final long mac = request.value();
                    // A multicast or all-zero address cannot be a station address.
                    if (mac == 0 || (mac & 0x0100_0000_0000L) != 0)
                    {
                        return VirtioNet.VIRTIO_NET_ERR;
                    }
                    state.mac(mac);
                }
                else
                {
                    state.macTable(request.unicastEntries(), request.multicastEntries());
                }
                filter.applyToAll();
                return VirtioNet.VIRTIO_NET_OK;
            case VirtioNet.VIRTIO_NET_CTRL_MQ:
                // The parser checked 1 <= pairs <= max_virtqueue_pairs.
                state.activePairs((int)request.value());
                return VirtioNet.VIRTIO_NET_OK;
            case VirtioNet.VIRTIO_NET_CTRL_ANNOUNCE:
                state.ackAnnounce();
                return VirtioNet.VIRTIO_NET_OK;
            case VirtioNet.VIRTIO_NET_CTRL_VLAN:
            case VirtioNet.VIRTIO_NET_CTRL_GUEST_OFFLOADS:
                return VirtioNet.VIRTIO_NET_OK;
            default:
                return VirtioNet.VIRTIO_NET_ERR;
        }
    }

    /** Commands answered VIRTIO_NET_ERR (or without an ack byte). Control queue thread. */
    public long errors()
    {
        return errors;
    }

    public long commands()
    {
        return commands;
    }
}
