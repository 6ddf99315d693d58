package dev.braid.vhostuser;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.FrontQueue;
import dev.braid.aggregator.net.NetDevice;
import dev.braid.aggregator.net.NetDeviceState;
import dev.braid.aggregator.net.VirtioNetDevice;
import dev.braid.ha.Aggregation;
import dev.braid.virtio.card.NetCard;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.net.VirtioNet;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.SplitQueue;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * virtio-net behind vhost-user ({@code -netdev vhost-user,queues=N} with {@code virtio-net-pci}).
 * QEMU keeps the control queue, the config space (MAC, status) and the feature bits it emulates
 * itself (MAC, STATUS, CTRL_*): the back end gets rings 0..2N-1, rx0, tx0, rx1, tx1, ..., and
 * runs them as an aggregated {@link VirtioNetDevice} without a control queue, built through its
 * {@link VirtioNetDevice.Context} over split rings made here. Only whole pairs run: of the leading
 * started-and-enabled rings, an odd last one waits for its partner. A pair QEMU has not enabled
 * (the guest's VQ_PAIRS_SET goes to QEMU, which answers with SET_VRING_ENABLE) is not run.
 *
 * <p>Offered: VERSION_1, INDIRECT_DESC, EVENT_IDX, MRG_RXBUF (one frame per buffer, num_buffers
 * 1) and, with more than one pair, MQ (QEMU also needs the MQ protocol feature and GET_QUEUE_NUM,
 * answered in pairs). The devices' rx and tx handlers use the 12-byte header, so a driver that
 * acks neither VERSION_1 nor MRG_RXBUF (a 10-byte header) is refused at start. No offloads, no
 * GUEST_ANNOUNCE: the back end cannot raise VIRTIO_NET_S_ANNOUNCE through QEMU, so after a
 * failover the device's own gratuitous ARPs (for the addresses learned from the guest's tx) make
 * the peers learn the surviving card.
 *
 * <p>A stop waits (bounded) for tx in flight, stops the agents (completing the tx their last pass
 * took, {@link BackendAgents#stopDrained}) and fences the cards, then rewinds
 * each ring past the buffers it had popped but not used, when those are exactly the last ones
 * popped (rx buffers waiting for a frame, nearly always): the next start pops them again, so a
 * restart (the guest enabling a second pair) loses no rx buffer. tx buffers that cannot be rewound
 * that way are reported as abandoned; empty rx buffers are counted ({@link #rxLeft}).
 */
public final class NetBackendDevice implements BackendDevice
{
    private final BackendSettings<NetCard> settings;
    private final BackendAgents agents;
    private final int maxPairs;
    private final long mac;
    private final long features;
    private final NetDeviceState configView;
    private volatile NetDevice device; // volatile: tests and status lines read it from other threads
    /** The aggregated device from the agents' start to the stop, for monitors on other threads. */
    private volatile AggregatedDevice<?> live;
    private int runningRings;
    private long[] availGpa = new long[0];
    private GuestMemory memory;
    private volatile long starts;
    private long rewound;
    private long rxLeft;

    /**
     * @param mac          the device MAC the cards accept (QEMU's {@code mac=} of the virtio-net-pci, which the
     *                     guest uses as its source address).
     * @param agentThreads threads the device's agents share while it runs.
     */
    public NetBackendDevice(final List<NetCard> cards, final int maxPairs, final int maxQueueSize,
        final int agentThreads, final Aggregation aggregation, final long mac)
    {
        this.settings = new BackendSettings<>("net", cards, maxPairs, 128, "queue pairs", maxQueueSize, agentThreads,
            aggregation);
        if (mac == 0 || (mac & 0x0100_0000_0000L) != 0 || (mac >>> 48) != 0)
        {
            throw new IllegalArgumentException("the device MAC must be a 48-bit unicast address: " + Long.toHexString(mac));
        }
        this.agents = new BackendAgents(agentThreads);
        this.maxPairs = maxPairs;
        this.mac = mac;
        this.features = offered(maxPairs);
        this.configView = new NetDeviceState(mac, maxPairs, VirtioNet.DEFAULT_MTU);
        // Fails here, not at the guest's DRIVER_OK, when the cards and the aggregation do not go together.
        context(GuestMemory.allocate(4096), maxPairs, q -> { }).conclude();
    }

    /** The virtio features this back end offers for {@code pairs} queue pairs. */
    public static long offered(final int pairs)
    {
        return VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.INDIRECT_DESC, VirtioFeatures.EVENT_IDX,
            VirtioNet.VIRTIO_NET_F_MRG_RXBUF) | (pairs > 1 ? 1L << VirtioNet.VIRTIO_NET_F_MQ : 0);
    }

    public long features()
    {
        return features;
    }

    public int maxQueues()
    {
        return 2 * maxPairs;
    }

    public int queueNum()
    {
        return maxPairs;
    }

    /** Without CONFIG: QEMU's net device keeps its config space and warns at a back end that offers it. */
    public long protocolFeatures()
    {
        return VhostUserDescriptor.PROTOCOL_FEATURES_OFFERED & ~(1L << VhostUserDescriptor.PROTOCOL_F_CONFIG);
    }

    public int usableRings(final int leading)
    {
        return leading & ~1;
    }

    public int maxQueueSize()
    {
        return settings.maxQueueSize;
    }

    /** QEMU serves the config space itself; this answers a front end that asks anyway (MAC, status, pairs). */
    public int readConfigByte(final int offset)
    {
        return (int)configView.readConfig(offset, 1) & 0xFF;
    }

    /** The running net device (its announcer and state), or null when stopped. Tests and status lines. */
    public NetDevice net()
    {
        return device;
    }

    /** Starts since construction (a restart is a stop and a start). */
    public long starts()
    {
        return starts;
    }

    public AggregatedDevice<?> runningDevice()
    {
        return live;
    }

    /** Stops that completed tx the agents took after the drain (see {@link BackendAgents#stopDrained}). */
    public long lateStops()
    {
        return agents.lateStops();
    }

    /** Buffers stops handed back to the guest's rings by rewinding them (popped again at the next start). */
    public long rewound()
    {
        return rewound;
    }

    /**
     * Empty rx buffers stops could not hand back (not the last ones popped: with several cards they
     * fill out of order). Harmless when the ring is reset next (QEMU's GET_VRING_BASE at a guest
     * reset or exit); after a restart the guest's rx ring has that many fewer buffers.
     */
    public long rxLeft()
    {
        return rxLeft;
    }

    public String start(
        final GuestMemory memory, final long negotiated, final int count, final int[] sizes, final long[] desc,
        final long[] avail, final long[] used, final int[] bases, final IntConsumer calls)
    {
        if (device != null)
        {
            return "net device already running";
        }
        if (count < 2 || count > 2 * maxPairs || (count & 1) != 0)
        {
            return "net rings " + count + ": whole rx/tx pairs, 2.." + 2 * maxPairs;
        }
        if (!VirtioFeatures.has(negotiated, VirtioFeatures.VERSION_1) &&
            !VirtioFeatures.has(negotiated, VirtioNet.VIRTIO_NET_F_MRG_RXBUF))
        {
            return "net features 0x" + Long.toHexString(negotiated) + " give a 10-byte header; " +
                "only the 12-byte one (VERSION_1 or MRG_RXBUF) is served";
        }
        if (VirtioFeatures.has(negotiated, VirtioFeatures.RING_PACKED))
        {
            return "packed rings are not offered";
        }
        final boolean eventIdx = VirtioFeatures.has(negotiated, VirtioFeatures.EVENT_IDX);
        final boolean indirect = VirtioFeatures.has(negotiated, VirtioFeatures.INDIRECT_DESC);
        final int pairs = count / 2;
        final DeviceQueue[] rx = new DeviceQueue[pairs];
        final DeviceQueue[] tx = new DeviceQueue[pairs];
        for (int q = 0; q < count; q++)
        {
            final String bad = SplitQueue.checkLayout(memory, sizes[q], desc[q], avail[q], used[q]);
            if (bad != null)
            {
                return "net ring " + q + ": " + bad;
            }
            final SplitQueue ring = new SplitQueue(memory, sizes[q], desc[q], avail[q], used[q], eventIdx, indirect);
            ring.startAt(bases[q], memory.getShort(used[q] + 2) & 0xFFFF);
            if ((q & 1) == 0)
            {
                rx[q / 2] = ring;
            }
            else
            {
                tx[q / 2] = ring;
            }
        }
        final NetDevice net;
        try
        {
            net = VirtioNetDevice.aggregate(context(memory, pairs, calls), rx, tx, null,
                negotiated & ~(1L << VhostUserDescriptor.F_PROTOCOL_FEATURES));
        }
        catch (final IllegalArgumentException ex)
        {
            return "net device refused: " + ex.getMessage();
        }
        availGpa = avail.clone();
        this.memory = memory;
        runningRings = count;
        device = net;
        // Polled, no kick waiter: rx frames arrive from the cards, not with a kick, and a sleeping agent
        // thread would hold them up to its timeout.
        agents.startPolling(net.agents());
        live = net.device();
        starts = starts + 1;
        return null;
    }

    private VirtioNetDevice.Context context(final GuestMemory memory, final int pairs, final IntConsumer calls)
    {
        return settings.applyTo(new VirtioNetDevice.Context().mac(mac).maxQueuePairs(pairs), memory, calls);
    }

    public boolean isRunning()
    {
        return device != null;
    }

    public int stop(final int[] bases)
    {
        final NetDevice net = device;
        if (net == null)
        {
            return 0;
        }
        live = null;
        final FrontQueue[] queues = new FrontQueue[runningRings];
        for (int q = 0; q < runningRings; q++)
        {
            queues[q] = net.device().frontQueue(q);
        }
        // tx first: a frame the guest handed over should go out and complete, also one the agents'
        // last pass took (the rings frozen). rx buffers wait for frames that may never come, so
        // they are not waited for.
        final DeviceQueue[] rings = new DeviceQueue[runningRings];
        for (int q = 0; q < runningRings; q++)
        {
            rings[q] = queues[q].deviceQueue();
        }
        agents.stopDrained(rings, () -> txInFlight(queues));
        for (final NetCard card : settings.cards)
        {
            // Nothing of this generation touches guest memory after this.
            card.fence();
            card.unfence();
        }
        int abandoned = 0;
        for (int q = 0; q < runningRings; q++)
        {
            final SplitQueue ring = (SplitQueue)queues[q].deviceQueue();
            final int last = ring.lastAvailIndex();
            final int owed = queues[q].inFlight();
            if (owed > 0 && isTail(memory, queues[q], ring.size(), availGpa[q], last, owed))
            {
                bases[q] = (last - owed) & 0xFFFF;
                rewound += owed;
            }
            else
            {
                bases[q] = last;
                if ((q & 1) == 0)
                {
                    rxLeft += owed; // empty buffers: no frame is lost, see rxLeft()
                }
                else
                {
                    abandoned += owed; // a frame that may or may not have gone out, never completed
                }
            }
        }
        device = null;
        memory = null;
        runningRings = 0;
        return abandoned;
    }

    /**
     * Whether the {@code owed} buffers the queue still holds are exactly the last {@code owed} the
     * driver made available before {@code last} (then rewinding the ring hands back those and only those).
     */
    private static boolean isTail(final GuestMemory memory, final FrontQueue queue, final int size, final long avail,
        final int last, final int owed)
    {
        if (owed > size)
        {
            return false;
        }
        for (int i = 1; i <= owed; i++)
        {
            final int slot = (last - i) & (size - 1);
            final int head = memory.getShort(avail + 4 + 2L * slot) & 0xFFFF;
            if (!queue.holds(head))
            {
                return false;
            }
        }
        // Distinct heads: a driver repeating a head in the window would make the check pass twice for one buffer.
        final boolean[] seen = new boolean[size];
        for (int i = 1; i <= owed; i++)
        {
            final int head = memory.getShort(avail + 4 + 2L * ((last - i) & (size - 1))) & 0xFFFF;
            if (head >= size || seen[head])
            {
                return false;
            }
            seen[head] = true;
        }
        return true;
    }

    private static int txInFlight(final FrontQueue[] queues)
    {
        int sum = 0;
        for (int q = 1; q < queues.length; q += 2)
        {
            sum += queues[q].inFlight();
        }
        return sum;
    }

    public void close()
    {
        if (device != null)
        {
            stop(new int[2 * maxPairs]);
        }
    }
}
