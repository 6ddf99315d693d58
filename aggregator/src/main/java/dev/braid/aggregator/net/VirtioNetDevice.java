package dev.braid.aggregator.net;

import dev.braid.aggregator.AbstractVirtioDevice;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.DeviceContext;
import dev.braid.aggregator.InterruptSink;
import dev.braid.ha.Aggregation;
import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.SelectorKind;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.device.FeatureNegotiation;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.queue.DeviceQueue;

import java.util.Arrays;

/**
 * What a VMM attaches to its transport for a virtio-net device served by several NICs. Virtio queues
 * are rx0, tx0, ..., rx(N-1), tx(N-1), ctrl with N = max_virtqueue_pairs; a driver without MQ uses
 * rx0, tx0 and ctrl at index 2, as the spec numbers them. The device is built from one {@link Context};
 * DRIVER_OK builds a {@link NetDevice} ({@link #aggregate}), and from then on the config space (MAC,
 * status with LINK_UP and ANNOUNCE, max_virtqueue_pairs, mtu) is that device's {@link NetDeviceState}, and an announce after a failover
 * moves the config generation and raises the config interrupt.
 *
 * <p>Offered: MAC, STATUS, CTRL_VQ, CTRL_RX, MQ, GUEST_ANNOUNCE, MTU, MRG_RXBUF (every frame in one
 * buffer, num_buffers 1) and the standard ring features.
 */
public final class VirtioNetDevice extends AbstractVirtioDevice
{
    private static final int SEG_MAX = 64;

    /**
     * The largest max_virtqueue_pairs offered. The spec allows 0x8000, but then the control queue
     * is virtqueue 0x10000, beyond the 16-bit queue_select (and the queue map's 65536 guest queues).
     */
    public static final int MAX_QUEUE_PAIRS = 0x7FFF;

    private final Context context;
    /** The config space before DRIVER_OK (and after a reset): what the driver probes. */
    private final NetDeviceState initialState;
    private volatile NetDevice net;

    public VirtioNetDevice(final Context context)
    {
        super(context.conclude(), newCore(context));
        this.context = context;
        this.initialState = new NetDeviceState(context.mac(), context.maxQueuePairs(), context.mtu());
    }

    /** The device-type features offered (the ring features are added by the core). */
    public static long offeredFeatures()
    {
        return VirtioFeatures.mask(VirtioNet.VIRTIO_NET_F_MAC, VirtioNet.VIRTIO_NET_F_STATUS,
            VirtioNet.VIRTIO_NET_F_CTRL_VQ, VirtioNet.VIRTIO_NET_F_CTRL_RX, VirtioNet.VIRTIO_NET_F_MQ,
            VirtioNet.VIRTIO_NET_F_GUEST_ANNOUNCE, VirtioNet.VIRTIO_NET_F_MTU, VirtioNet.VIRTIO_NET_F_MRG_RXBUF);
    }

    private static VirtioDeviceCore newCore(final Context context)
    {
        final int maxQueuePairs = context.maxQueuePairs();
        final int queueMaxSize = context.queueMaxSize();
        final int[] sizes = new int[2 * maxQueuePairs + 1];
        Arrays.fill(sizes, queueMaxSize);
        final FeatureNegotiation features = FeatureNegotiation.offer(offeredFeatures(), false, false)
            .requires(VirtioNet.VIRTIO_NET_F_CTRL_RX, VirtioNet.VIRTIO_NET_F_CTRL_VQ)
            .requires(VirtioNet.VIRTIO_NET_F_GUEST_ANNOUNCE, VirtioNet.VIRTIO_NET_F_CTRL_VQ)
            .requires(VirtioNet.VIRTIO_NET_F_MQ, VirtioNet.VIRTIO_NET_F_CTRL_VQ);
        return new VirtioDeviceCore(VirtioNet.VIRTIO_ID_NET, features, sizes);
    }

    public long readConfig(final int offset, final int width)
    {
        final NetDevice current = net;
        return (current != null ? current.state() : initialState).readConfig(offset, width);
    }

    /** The active net device, or null before DRIVER_OK. */
    public NetDevice net()
    {
        return net;
    }

    /** The virtio index of the control queue for the negotiated features, or -1 without CTRL_VQ. */
    public int controlQueueIndex()
    {
        final long features = core().features().acked();
        if (!VirtioFeatures.has(features, VirtioNet.VIRTIO_NET_F_CTRL_VQ))
        {
            return -1;
        }
        return 2 * pairsFor(features);
    }

    private int pairsFor(final long features)
    {
        return VirtioFeatures.has(features, VirtioNet.VIRTIO_NET_F_MQ) ? context.maxQueuePairs() : 1;
    }

    protected AggregatedDevice build(final long features)
    {
        final int pairs = pairsFor(features);
        final boolean ctrl = VirtioFeatures.has(features, VirtioNet.VIRTIO_NET_F_CTRL_VQ);
        final DeviceQueue[] rx = new DeviceQueue[pairs];
        final DeviceQueue[] tx = new DeviceQueue[pairs];
        for (int p = 0; p < pairs; p++)
        {
            rx[p] = queue(NetDevice.rxQueueIndex(p), features);
            tx[p] = rx[p] == null ? null : queue(NetDevice.txQueueIndex(p), features);
            if (tx[p] == null)
            {
                return null;
            }
        }
        DeviceQueue control = null;
        if (ctrl)
        {
            control = queue(2 * pairs, features);
            if (control == null)
            {
                return null;
            }
        }
        final NetDevice built = assemble(context, rx, tx, control, features, new InterruptSink()
        {
            public void interrupt(final int guestQueue)
            {
                // Front queue i is virtio queue i: the spec's order is the aggregator's.
                context.interrupts().interrupt(guestQueue);
            }

            public void onConfigChange()
            {
                configChanged();
            }
        });
        net = built;
        return built.device();
    }

    /**
     * The aggregated net device over device-side rings that are already set up: what DRIVER_OK
     * builds, and what a rig without a transport builds over its driver model's rings. Queue order
     * is the spec's (rx0, tx0, ..., ctrl); an announce raises the context's config interrupt.
     *
     * @param control  the control queue, or null without VIRTIO_NET_F_CTRL_VQ.
     * @param features the negotiated features.
     */
    public static NetDevice aggregate(
        final Context context, final DeviceQueue[] rx, final DeviceQueue[] tx, final DeviceQueue control,
        final long features)
    {
        context.conclude();
        return assemble(context, rx, tx, control, features, new InterruptSink()
        {
            public void interrupt(final int guestQueue)
            {
                context.interrupts().interrupt(guestQueue);
            }

            public void onConfigChange()
            {
                context.interrupts().onConfigChange();
                context.configInterrupt().run();
            }
        });
    }

    private static NetDevice assemble(
        final Context context, final DeviceQueue[] rx, final DeviceQueue[] tx, final DeviceQueue control,
        final long features, final InterruptSink interrupts)
    {
        final int guestQueues = 2 * rx.length + (control != null ? 1 : 0);
        return NetAggregation.builder(context.deviceBuilder(guestQueues)).memory(context.memory())
            .mac(context.mac()).mtu(context.mtu()).guestIpv4(context.guestIpv4()).features(features)
            .maxSegments(context.maxSegments()).queues(rx, tx, control).interrupts(interrupts).build();
    }

    protected void onDeactivated()
    {
        net = null;
    }

    /**
     * Everything a virtio-net device is made of: the {@link DeviceContext} settings plus the MAC,
     * max_virtqueue_pairs, the MTU and the guest's IPv4 address for gratuitous ARPs. Defaults: 1
     * pair, MTU 1500, active-active flow-hash. Active-active queue-affine is refused with more than
     * one card: a pair's rx and tx would land on different NICs, and replies where no rx buffer waits.
     */
    public static final class Context extends DeviceContext<Context, NetCard>
    {
        private long mac;
        private int maxQueuePairs = 1;
        private int mtu = VirtioNet.DEFAULT_MTU;
        private int guestIpv4;

        public Context()
        {
            super(SEG_MAX, Aggregation.activeActive(SelectorKind.FLOW_HASH));
        }

        /** The device MAC, 48 bits, first octet high ({@code 0x525400123456L}); unicast. Required. */
        public Context mac(final long mac)
        {
            set().mac = mac;
            return this;
        }

        public long mac()
        {
            return mac;
        }

        /** max_virtqueue_pairs (1..0x7FFF, see {@link #MAX_QUEUE_PAIRS}). */
        public Context maxQueuePairs(final int maxQueuePairs)
        {
            set().maxQueuePairs = maxQueuePairs;
            return this;
        }

        public int maxQueuePairs()
        {
            return maxQueuePairs;
        }

        public Context mtu(final int mtu)
        {
            set().mtu = mtu;
            return this;
        }

        public int mtu()
        {
            return mtu;
        }

        /** The guest's IPv4 address for gratuitous ARPs; 0 (default) learns it from tx. */
        public Context guestIpv4(final int guestIpv4)
        {
            set().guestIpv4 = guestIpv4;
            return this;
        }

        public int guestIpv4()
        {
            return guestIpv4;
        }

        protected void concludeDevice()
        {
            require(mac != 0 && (mac & 0x0100_0000_0000L) == 0 && (mac >>> 48) == 0,
                "the device MAC must be a 48-bit unicast address: " + Long.toHexString(mac));
            require(maxQueuePairs >= 1 && maxQueuePairs <= MAX_QUEUE_PAIRS,
                "max_virtqueue_pairs must be 1.." + MAX_QUEUE_PAIRS + ": " + maxQueuePairs);
            require(mtu >= 68 && mtu <= 65535, "mtu must be 68..65535: " + mtu);
            require(cards().size() == 1 || aggregation().isActivePassive() ||
                aggregation().mode() == DispatchMode.REQUEST_SPRAY,
                "virtio-net active-active needs request spray (e.g. flow-hash), not queue-affine: " + aggregation());
        }
    }
}
