package dev.braid.aggregator.net;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.InterruptSink;
import dev.braid.aggregator.RequestHandler;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.NetCtrlParser;
import dev.braid.virtio.net.NetTxParser;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.queue.DeviceQueue;


/**
 * The net part of {@link VirtioNetDevice#aggregate}: the rx/tx queue pairs and the control queue
 * with their handlers, the probe, the announcer and the shared {@link NetDeviceState}, on top of an
 * {@link AggregatedDevice.Builder} that carries the generic settings
 * ({@link dev.braid.aggregator.DeviceContext#deviceBuilder}).
 *
 * <p>Guest queue order is the spec's: rx0, tx0, rx1, tx1, ..., then the control queue. Active-active
 * sprays by flow hash by default, so each flow stays on one card. Cards are reached on card queue {@code guestQueue mod queueCount};
 * cards with one queue pair (or as many as the guest uses) keep rx and tx of a pair together.
 */
public final class NetAggregation
{
    private final AggregatedDevice.Builder base;
    private GuestMemory memory;
    private long mac;
    private int mtu = VirtioNet.DEFAULT_MTU;
    private long features = defaultFeatures();
    private int guestIpv4;
    private int maxSegments = 64;
    private DeviceQueue[] rxQueues;
    private DeviceQueue[] txQueues;
    private DeviceQueue controlQueue;
    private InterruptSink interrupts = q -> {};

    private NetAggregation(final AggregatedDevice.Builder base)
    {
        this.base = base;
    }

    /** A net builder over {@code base}; do not add queues, handlers or a probe to base directly. */
    static NetAggregation builder(final AggregatedDevice.Builder base)
    {
        return new NetAggregation(base);
    }

    /** The features a net device built here supports (VERSION_1 and the transport bits are the VMM's). */
    public static long defaultFeatures()
    {
        return 1L << VirtioNet.VIRTIO_NET_F_MAC | 1L << VirtioNet.VIRTIO_NET_F_MTU |
            1L << VirtioNet.VIRTIO_NET_F_STATUS | 1L << VirtioNet.VIRTIO_NET_F_CTRL_VQ |
            1L << VirtioNet.VIRTIO_NET_F_CTRL_RX | 1L << VirtioNet.VIRTIO_NET_F_GUEST_ANNOUNCE |
            1L << VirtioNet.VIRTIO_NET_F_MQ | 1L << VirtioNet.VIRTIO_NET_F_CTRL_MAC_ADDR |
            1L << VirtioNet.VIRTIO_NET_F_MRG_RXBUF;
    }

    public NetAggregation memory(final GuestMemory memory)
    {
        this.memory = memory;
        return this;
    }

    /** The device MAC, 48 bits, first octet high ({@code 0x525400123456L}). */
    public NetAggregation mac(final long mac)
    {
        this.mac = mac;
        return this;
    }

    public NetAggregation mtu(final int mtu)
    {
        this.mtu = mtu;
        return this;
    }

    /** The features the driver negotiated (the parsers and the announce bit depend on them). */
    public NetAggregation features(final long negotiated)
    {
        this.features = negotiated;
        return this;
    }

    /** The guest's IPv4 address for gratuitous ARPs; without it, the address is learned from tx. */
    public NetAggregation guestIpv4(final int address)
    {
        this.guestIpv4 = address;
        return this;
    }

    /** Most segments of one rx or tx chain a card is handed. */
    public NetAggregation maxSegments(final int maxSegments)
    {
        this.maxSegments = maxSegments;
        return this;
    }

    /**
     * The device-side queues: one rx and one tx queue per pair (same count), and the control
     * queue, or null without VIRTIO_NET_F_CTRL_VQ.
     */
    public NetAggregation queues(final DeviceQueue[] rx, final DeviceQueue[] tx, final DeviceQueue control)
    {
        this.rxQueues = rx.clone();
        this.txQueues = tx.clone();
        this.controlQueue = control;
        return this;
    }

    /** Used for queue interrupts and for the config interrupt of an announce. */
    public NetAggregation interrupts(final InterruptSink interrupts)
    {
        this.interrupts = interrupts;
        return this;
    }

    public NetDevice build()
    {
        if (memory == null)
        {
            throw new IllegalArgumentException("guest memory is required");
        }
        if (rxQueues == null || rxQueues.length == 0 || rxQueues.length != txQueues.length)
        {
            throw new IllegalArgumentException("one rx and one tx queue per pair, at least one pair");
        }
        if (mac == 0 || (mac & 0x0100_0000_0000L) != 0 || (mac >>> 48) != 0)
        {
            throw new IllegalArgumentException("the device MAC must be a 48-bit unicast address: " + Long.toHexString(mac));
        }
        final int pairs = rxQueues.length;
        final NetDeviceState state = new NetDeviceState(mac, pairs, mtu).features(features);
        final NetCardFilter filter = new NetCardFilter(state);
        final NetAnnouncer announcer = new NetAnnouncer(state, filter, interrupts, guestIpv4);
        if (guestIpv4 != 0)
        {
            state.guestIpv4(guestIpv4);
        }

        final int queueCount = 2 * pairs + (controlQueue != null ? 1 : 0);
        final DeviceQueue[] queues = new DeviceQueue[queueCount];
        final RequestHandler[] handlers = new RequestHandler[queueCount];
        final NetRxHandler[] rx = new NetRxHandler[pairs];
        final NetTxHandler[] tx = new NetTxHandler[pairs];
        for (int p = 0; p < pairs; p++)
        {
            rx[p] = new NetRxHandler(memory, rxQueues[p].size(), maxSegments);
            final NetTxParser parser = new NetTxParser().features(features).mtu(mtu);
            tx[p] = new NetTxHandler(memory, parser, txQueues[p].size(), maxSegments, state);
            queues[2 * p] = rxQueues[p];
            handlers[2 * p] = rx[p];
            queues[2 * p + 1] = txQueues[p];
            handlers[2 * p + 1] = tx[p];
        }
        NetControlHandler control = null;
        if (controlQueue != null)
        {
            final NetCtrlParser parser = new NetCtrlParser().features(features).maxVirtqueuePairs(pairs);
            control = new NetControlHandler(memory, parser, state, filter);
            queues[queueCount - 1] = controlQueue;
            handlers[queueCount - 1] = control;
        }
        final AggregatedDevice device = base
            .queues(queues, handlers)
            .probeHandler(new NetProbeHandler())
            .interrupts(interrupts)
            .controlPlaneListener(announcer)
            .build();
        filter.attach(device);
        announcer.attach(device);
        // Every card accepts the device MAC before the first frame.
        filter.applyToAll();
        return new NetDevice(device, state, announcer, rx, tx, control);
    }
}
