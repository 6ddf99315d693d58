package dev.braid.aggregator.net;

import dev.braid.aggregator.AbstractVirtioDevice;
import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.InterruptSink;
import dev.braid.ha.ActiveActivePolicy;
import dev.braid.ha.AllDownPolicy;
import dev.braid.ha.DispatchShape;
import dev.braid.ha.HealthConfig;
import dev.braid.ha.MapPolicy;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.device.FeatureNegotiation;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.queue.DeviceQueue;
import org.agrona.concurrent.Agent;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What a VMM attaches to its transport for a virtio-net device served by several NICs. Virtio queues
 * are rx0, tx0, ..., rx(N-1), tx(N-1), ctrl with N = max_virtqueue_pairs; a driver without MQ uses
 * rx0, tx0 and ctrl at index 2, as the spec numbers them. DRIVER_OK builds a {@link NetDevice} through
 * {@link NetAggregation}; from then on the config space (MAC, status with LINK_UP and ANNOUNCE,
 * max_virtqueue_pairs, mtu) is that device's {@link NetDeviceState}, and an announce after a failover
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

    private final List<NetCard> cards;
    private final long mac;
    private final int maxQueuePairs;
    private final int mtu;
    private final Function<Integer, MapPolicy> policy;
    private final DispatchPolicy dispatch;
    private final HealthConfig health;
    private final AllDownPolicy allDown;
    private final InterruptSink interrupts;
    /** The config space before DRIVER_OK (and after a reset): what the driver probes. */
    private final NetDeviceState initialState;
    private volatile NetDevice net;

    /**
     * @param mac           the device MAC, 48 bits, first octet high; unicast.
     * @param maxQueuePairs max_virtqueue_pairs (1..0x7FFF, see {@link #MAX_QUEUE_PAIRS}).
     * @param policy        makes the map policy for a given number of guest queues (2 * pairs + ctrl).
     * @param interrupts    queue interrupts by virtio queue index.
     */
    public VirtioNetDevice(
        final GuestMemory memory, final List<NetCard> cards, final long mac, final int maxQueuePairs, final int mtu,
        final int queueMaxSize, final Function<Integer, MapPolicy> policy, final DispatchPolicy dispatch,
        final HealthConfig health, final AllDownPolicy allDown, final InterruptSink interrupts,
        final Runnable configInterrupt, final Consumer<List<Agent>> onActivate, final Runnable onDeactivate)
    {
        super(memory, newCore(maxQueuePairs, queueMaxSize), cards, configInterrupt, onActivate, onDeactivate);
        if (mac == 0 || (mac & 0x0100_0000_0000L) != 0 || (mac >>> 48) != 0)
        {
            throw new IllegalArgumentException("the device MAC must be a 48-bit unicast address: " + Long.toHexString(mac));
        }
        final MapPolicy probe = policy.apply(2 * maxQueuePairs + 1);
        if (cards.size() > 1 && probe instanceof ActiveActivePolicy &&
            ((ActiveActivePolicy)probe).shape() == DispatchShape.QUEUE_AFFINE)
        {
            // Each guest queue would get its own card: a pair's rx and tx would land on different
            // NICs and replies would arrive where no rx buffer waits.
            throw new IllegalArgumentException(
                "virtio-net active-active needs request spray (e.g. flow-hash), not queue-affine");
        }
        this.cards = List.copyOf(cards);
        this.mac = mac;
        this.maxQueuePairs = maxQueuePairs;
        this.mtu = mtu;
        this.policy = policy;
        this.dispatch = dispatch;
        this.health = health;
        this.allDown = allDown;
        this.interrupts = interrupts;
        this.initialState = new NetDeviceState(mac, maxQueuePairs, mtu);
    }

    /** The device-type features offered (the ring features are added by the core). */
    public static long offeredFeatures()
    {
        return VirtioFeatures.mask(VirtioNet.VIRTIO_NET_F_MAC, VirtioNet.VIRTIO_NET_F_STATUS,
            VirtioNet.VIRTIO_NET_F_CTRL_VQ, VirtioNet.VIRTIO_NET_F_CTRL_RX, VirtioNet.VIRTIO_NET_F_MQ,
            VirtioNet.VIRTIO_NET_F_GUEST_ANNOUNCE, VirtioNet.VIRTIO_NET_F_MTU, VirtioNet.VIRTIO_NET_F_MRG_RXBUF);
    }

    private static VirtioDeviceCore newCore(final int maxQueuePairs, final int queueMaxSize)
    {
        if (maxQueuePairs < 1 || maxQueuePairs > MAX_QUEUE_PAIRS)
        {
            throw new IllegalArgumentException("max_virtqueue_pairs must be 1.." + MAX_QUEUE_PAIRS + ": " + maxQueuePairs);
        }
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
        return VirtioFeatures.has(features, VirtioNet.VIRTIO_NET_F_MQ) ? maxQueuePairs : 1;
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
        final int guestQueues = 2 * pairs + (ctrl ? 1 : 0);
        final AggregatedDevice.Builder base = AggregatedDevice.builder().clock(clock())
            .maxCards(Math.max(8, cards.size())).mapPolicy(policy.apply(guestQueues)).dispatchPolicy(dispatch)
            .healthConfig(health).allDownPolicy(allDown);
        final NetAggregation builder = NetAggregation.builder(base).memory(memory).mac(mac).mtu(mtu)
            .features(features).maxSegments(SEG_MAX).queues(rx, tx, control)
            .interrupts(new InterruptSink()
            {
                public void interrupt(final int guestQueue)
                {
                    // Front queue i is virtio queue i: the spec's order is the aggregator's.
                    interrupts.interrupt(guestQueue);
                }

                public void onConfigChange()
                {
                    configChanged();
                }
            });
        for (final NetCard card : cards)
        {
            builder.card(card);
        }
        final NetDevice built = builder.build();
        net = built;
        return built.device();
    }

    protected void onDeactivated()
    {
        net = null;
    }
}
