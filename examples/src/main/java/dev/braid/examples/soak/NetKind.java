package dev.braid.examples.soak;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.testkit.guest.NetGuestWorkload;
import dev.braid.aggregator.net.NetAggregation;
import dev.braid.aggregator.net.NetDevice;
import dev.braid.aggregator.net.VirtioNetDevice;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.TimerSource;
import dev.braid.sim.net.FrameBuilder;
import dev.braid.sim.net.L2Segment;
import dev.braid.sim.net.PeerHost;
import dev.braid.sim.net.SimNic;
import dev.braid.virtio.card.NetCard;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.PackedDriverQueue;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.PackedQueue;
import dev.braid.virtio.queue.SplitQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * virtio-net over simulated NICs on one L2 segment with a peer host that echoes ICMP and UDP. The
 * guest sends requests with self-describing payloads and matches every reply.
 *
 * <p>The invariants are the virtio ones: every tx buffer completes exactly once (lost = posted and
 * never completed, including an announce ack), no completion for a buffer not posted (duplicated),
 * and every rx buffer comes back with a good header and length and, when it is a reply, an intact
 * payload (corrupted). A reply lost on the wire while a card failed, or delivered twice (a frame
 * whose completion was in flight at the fence is sent again), is what a network may do: those are
 * reported as wire_lost_replies and wire_duplicate_replies and are not virtio losses.
 *
 * <p>One queue pair plus the control queue, whatever --queues says: the simulated NICs do not steer
 * a reply back to the rx queue of the pair that sent the request, so one guest owns the rx ring.
 */
public final class NetKind implements DeviceKind
{
    public static final long DEVICE_MAC = 0x525400AA0001L;
    public static final long PEER_MAC = 0x525400BB0001L;
    public static final int GUEST_IP = FrameBuilder.ipv4(10, 0, 0, 2);
    public static final int PEER_IP = FrameBuilder.ipv4(10, 0, 0, 1);
    private static final int RX_QUEUE = NetDevice.rxQueueIndex(0);
    private static final int RX_RING = 256;

    public String name()
    {
        return "net";
    }

    public String defaultSelector()
    {
        return "flow-hash";
    }

    /**
     * Active-active queue-affine would put a pair's rx queue on one card and its tx queue on another:
     * the switch learns the device MAC where tx leaves, and that card holds no rx buffer to deliver the
     * replies into. A spraying selector spreads both over every card.
     */
    public void validate(final SoakConfig config)
    {
        if (!config.activePassive() && Policies.selector(config, defaultSelector()) == SelectorKind.QUEUE_AFFINE)
        {
            throw new UsageException("--device net --mode aa needs a spraying selector (flow-hash, round-robin, " +
                "least-outstanding, service-time): queue-affine splits the rx and tx of a queue pair over cards");
        }
    }

    public KindRig build(final SoakConfig config, final NanoClock clock, final Consumer<Agent> onAgentAdded)
    {
        validate(config);
        return new Rig(config, clock, onAgentAdded);
    }

    /** The built net rig; scenarios reach the peer, the device state and the guest through it. */
    public static final class Rig implements KindRig
    {
        private final SoakConfig config;
        private final NanoClock clock;
        private final long latencyNanos;
        private final PeerHost peer = new PeerHost(PEER_MAC, PEER_IP);
        private final L2Segment segment = new L2Segment(peer);
        private final List<SimNic> nics = new ArrayList<>();
        private final List<FaultTarget> targets = new ArrayList<>();
        private final NetDevice net;
        private final NetGuestWorkload guest;
        private final GuestQueue txQueue;
        private final DriverQueue rxDriver;
        private final NetModel model = new NetModel(1);
        /** TAP cards (--card tap:...), index = card index; empty for sim NICs. */
        private final List<dev.braid.cards.tap.TapNetCard> taps = new ArrayList<>();

        Rig(final SoakConfig config, final NanoClock clock, final Consumer<Agent> onAgentAdded)
        {
            this.config = config;
            this.clock = clock;
            this.latencyNanos = Math.max(1_000, Specs.meanLatencyNanos(config.latency));
            final int ringSize = config.ringSize();
            // rx buffers are pulled: a NIC holding none cannot deliver the frames that reach it, so
            // keep enough posted for every card to hold some whatever the tx depth.
            final int rxSize = Math.max(ringSize, RX_RING);
            final GuestMemory memory = GuestMemory.allocate((int)RingLayout.alignUp(
                3L * (64L * 1024 + rxSize * 64L) + NetGuestWorkload.areaBytes(rxSize, ringSize) + (1 << 20), 4096));

            final RingLayout rxLayout = layout(0, rxSize);
            final RingLayout txLayout = layout(RingLayout.alignUp(rxLayout.endGpa(), 4096), ringSize);
            final RingLayout ctrlLayout = layout(RingLayout.alignUp(txLayout.endGpa(), 4096), 8);
            final long area = RingLayout.alignUp(ctrlLayout.endGpa(), 4096);

            final List<NetCard> cards = new ArrayList<>();
            if (config.isNative())
            {
                try
                {
                    for (final NativeCards.Spec spec : config.nativeSpecs())
                    {
                        taps.add(NativeCards.openTap(spec, "tap" + taps.size()));
                    }
                }
                catch (final RuntimeException ex)
                {
                    NativeCards.closeAll(taps);
                    throw ex;
                }
                for (int i = 0; i < taps.size(); i++)
                {
                    cards.add(taps.get(i));
                    targets.add(new NativeTarget(taps.get(i), config.nativeSpecs().get(i)));
                }
            }
            else
            {
                for (int i = 0; i < config.cards; i++)
                {
                    cards.add(newNic(i));
                }
            }
            final int guestIp = config.isNative() ? config.guestIp : GUEST_IP;
            final int peerIp = config.isNative() ? config.peerIp : PEER_IP;
            final long peerMac = config.isNative() ? config.peerMac : PEER_MAC;
            net = VirtioNetDevice.aggregate(new VirtioNetDevice.Context().memory(memory).cards(cards).mac(DEVICE_MAC)
                .aggregation(Policies.aggregation(config, defaultSelectorOf())).health(config.health)
                .clock(clock).seed(config.seed).maxCards(SoakConfig.MAX_CARDS).onAgentAdded(onAgentAdded),
                new DeviceQueue[]{ deviceQueue(memory, rxLayout) }, new DeviceQueue[]{ deviceQueue(memory, txLayout) },
                deviceQueue(memory, ctrlLayout), NetAggregation.defaultFeatures());

            rxDriver = new TappedQueue(driverQueue(memory, rxLayout), 0, model);
            txQueue = new GuestQueue(new TappedQueue(driverQueue(memory, txLayout), 1, model), clock);
            final long limit = config.requests;
            // A reply outlives a hang's detection and replay; only later is it lost on the wire.
            final long replyTimeout = 2 * config.health.completionTimeoutNanos() + 10_000_000L;
            guest = NetGuestWorkload.builder().queues(rxDriver, txQueue, driverQueue(memory, ctrlLayout))
                .memory(memory).areaGpa(area).guest(DEVICE_MAC, guestIp).peer(peerMac, peerIp).requests(limit)
                .maxAwaiting(config.queueDepth).replyTimeoutNanos(replyTimeout).clock(clock)
                .configStatus(() -> net.state().status()).seed(config.seed * 31).build();
        }

        private static String defaultSelectorOf()
        {
            return "flow-hash";
        }

        private RingLayout layout(final long gpa, final int size)
        {
            return config.packed ? RingLayout.packed(gpa, size, 4) : RingLayout.split(gpa, size, 4);
        }

        private DeviceQueue deviceQueue(final GuestMemory memory, final RingLayout l)
        {
            return config.packed ?
                new PackedQueue(memory, l.queueSize(), l.descGpa(), l.driverAreaGpa(), l.deviceAreaGpa(), true, true) :
                new SplitQueue(memory, l.queueSize(), l.descGpa(), l.availGpa(), l.usedGpa(), true, true);
        }

        private DriverQueue driverQueue(final GuestMemory memory, final RingLayout l)
        {
            return config.packed ? new PackedDriverQueue(memory, l, true) : new SplitDriverQueue(memory, l, true);
        }

        private SimNic newNic(final int index)
        {
            final SimNic nic = new SimNic("nic" + index, FrameBuilder.macBytes(0x525400CC0000L + index), segment, clock,
                1, 64, 256, latencyNanos);
            place(index, nic);
            return nic;
        }

        private void place(final int index, final SimNic nic)
        {
            while (nics.size() <= index)
            {
                nics.add(null);
                targets.add(null);
            }
            nics.set(index, nic);
            targets.set(index, nic);
        }

        public NetDevice net()
        {
            return net;
        }

        public PeerHost peer()
        {
            return peer;
        }

        public NetGuestWorkload guest()
        {
            return guest;
        }

        public AggregatedDevice device()
        {
            return net.device();
        }

        public List<Agent> guests()
        {
            return List.of(guest);
        }

        public GuestModel model()
        {
            return model;
        }

        public List<GuestQueue> guestQueues()
        {
            return List.of(txQueue);
        }

        public List<FaultTarget> faultTargets()
        {
            return new ArrayList<>(targets);
        }

        public List<TimerSource> timerSources()
        {
            // The NICs are polled, not timed: while tx is in flight, wake often enough that their
            // service time shows; rx needs no timer (a reply lands in a NIC's ring as it is sent).
            final TimerSource nicPoll = () -> net.device().frontQueue(NetDevice.txQueueIndex(0)).inFlight() > 0 ?
                clock.nanoTime() + Math.max(1_000, latencyNanos / 2) : TimerSource.NONE;
            return List.of(nicPoll);
        }

        public int hotAddCard()
        {
            if (!taps.isEmpty())
            {
                throw new UsageException("hot-add: the net soak over TAPs does not add cards (give every tap: with --card)");
            }
            final SimNic nic = new SimNic("nic" + nics.size(), FrameBuilder.macBytes(0x525400CC0000L + nics.size()),
                segment, clock, 1, 64, 256, latencyNanos);
            // Every card accepts the device MAC before it carries a frame.
            nic.setMacAddress(net.state().macBytes());
            final int index = net.device().hotAdd(nic);
            place(index, nic);
            return index;
        }

        public boolean drains(final int guestQueue)
        {
            return guestQueue != RX_QUEUE;
        }

        /** tx buffers never completed, and an announce ack never answered. */
        public long outstanding()
        {
            return guest.txOutstanding() + ackOutstanding();
        }

        private long ackOutstanding()
        {
            return Math.max(0, guest.announcesSent() - guest.announceAcks() - guest.controlErrors());
        }

        public long duplicates()
        {
            return guest.strays();
        }

        public long corrupt()
        {
            return guest.corruptReplies() + guest.rxErrors();
        }

        public long errors()
        {
            return guest.controlErrors();
        }

        public long checked()
        {
            return guest.rxFrames();
        }

        public long cardInFlight(final int card)
        {
            // A NIC's tx in flight shows in the front queue's in-flight table; rx buffers are held by design.
            return 0;
        }

        public void close()
        {
            NativeCards.closeAll(taps);
        }

        public long cardCompleted(final int card)
        {
            if (!taps.isEmpty())
            {
                return card < taps.size() ? taps.get(card).txFrames() : 0;
            }
            final SimNic nic = card < nics.size() ? nics.get(card) : null;
            return nic == null ? 0 : nic.txFrames();
        }

        public String detail()
        {
            return "requests " + guest.requestsSent() + ", replies ok " + guest.repliesOk() + ", tx " +
                guest.txCompleted() + "/" + guest.txPosted() + ", rx frames " + guest.rxFrames() + ", announces acked " +
                guest.announceAcks() + " (1 queue pair)";
        }

        public Map<String, Long> extra()
        {
            final Map<String, Long> m = new LinkedHashMap<>();
            m.put("tx_posted", guest.txPosted());
            m.put("tx_completed", guest.txCompleted());
            m.put("rx_frames", guest.rxFrames());
            m.put("requests_sent", guest.requestsSent());
            m.put("replies_ok", guest.repliesOk());
            m.put("wire_lost_replies", guest.lostReplies());
            m.put("wire_late_replies", guest.lateReplies());
            m.put("wire_duplicate_replies", guest.duplicateReplies());
            m.put("awaiting_replies", (long)guest.awaiting());
            m.put("announces_requested", net.state().announcesRequested());
            m.put("announces_acked", guest.announceAcks());
            m.put("gratuitous_arps", net.announcer().arpsSent());
            if (taps.isEmpty())
            {
                m.put("peer_announcements", peer.announcements());
            }
            return m;
        }
    }
}
