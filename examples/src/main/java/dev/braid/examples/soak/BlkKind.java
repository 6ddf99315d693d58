package dev.braid.examples.soak;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.sim.TimerSource;
import dev.braid.virtio.card.BlockCard;
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
import java.util.List;
import java.util.function.Consumer;

/**
 * virtio-blk over simulated disks that share one backing store. Each guest queue owns a disjoint
 * sector range and verifies every read against the last write completed to it.
 */
public final class BlkKind implements DeviceKind
{
    public String name()
    {
        return "blk";
    }

    public String defaultSelector()
    {
        return "least-outstanding";
    }

    public void validate(final SoakConfig config)
    {
        DeviceKind.requireThreeDescriptorRequests(config, name());
    }

    public KindRig build(final SoakConfig config, final NanoClock clock, final Consumer<Agent> onAgentAdded)
    {
        validate(config);
        return new Rig(config, clock, onAgentAdded);
    }

    private static final class Rig implements KindRig
    {
        private final SoakConfig config;
        private final NanoClock clock;
        private final SharedBlockStore store;
        private final LatencyModel latency;
        private final List<SimDisk> disks = new ArrayList<>();
        private final List<BlkGuestWorkload> guests = new ArrayList<>();
        private final List<GuestQueue> guestQueues = new ArrayList<>();
        private final AggregatedDevice device;
        /** Null unless queue-affine: then every card is wrapped to check per-queue write order. */
        private final WriteOrder order;
        private final BlockModel model = new BlockModel(BlockModel.Format.BLK);
        /** Native cards (--card), index = card index; empty for sim disks. */
        private final List<BlockCard> nativeCards = new ArrayList<>();
        private final List<NativeTarget> nativeTargets = new ArrayList<>();
        private final int cardQueues;

        Rig(final SoakConfig config, final NanoClock clock, final Consumer<Agent> onAgentAdded)
        {
            this.config = config;
            this.clock = clock;
            this.latency = Specs.latency(config.latency);
            final int queues = config.queues;
            final int ringSize = config.ringSize();
            final int slot = BlkGuestWorkload.slotBytes(config.maxSectorsPerRequest);
            final long perQueue = RingLayout.alignUp(64L * 1024 + (long)ringSize * 64 + (long)ringSize * slot, 4096);
            final GuestMemory memory = GuestMemory.allocate((int)Math.min(Integer.MAX_VALUE, perQueue * queues + (1 << 20)));
            cardQueues = Math.min(8, Math.max(2, config.queues));
            final List<BlockCard> cards = new ArrayList<>();
            int sectorsPerQueue = config.sectorsPerQueue;
            String serial = "braid-soak";
            if (config.isNative())
            {
                store = null;
                // The order check wraps sim disks only: a native run checks data, not submission order.
                order = null;
                final List<NativeCards.Spec> specs = config.nativeSpecs();
                try
                {
                    for (int i = 0; i < specs.size(); i++)
                    {
                        nativeCards.add(NativeCards.openBlock(specs.get(i), cardName(specs.get(i), i), cardQueues, 64));
                    }
                    NativeCards.checkSizes(specs, nativeCards, config.forceIdentity);
                    final long capacity = nativeCards.get(0).capacitySectors();
                    sectorsPerQueue = (int)Math.min(sectorsPerQueue, capacity / queues);
                    if (sectorsPerQueue < config.maxSectorsPerRequest)
                    {
                        throw new UsageException("--card " + specs.get(0).text() + ": " + capacity * 512 + " bytes is too " +
                            "small for " + queues + " queue(s) of " + config.maxSectorsPerRequest + "-sector requests");
                    }
                    // The reference model starts from zeroes: the range the guests own is zeroed first.
                    NativeCards.zero(nativeCards.get(0), specs.get(0).text(), (long)sectorsPerQueue * queues);
                }
                catch (final RuntimeException ex)
                {
                    NativeCards.closeAll(nativeCards);
                    throw ex;
                }
                for (int i = 0; i < specs.size(); i++)
                {
                    cards.add(nativeCards.get(i));
                    nativeTargets.add(new NativeTarget(nativeCards.get(i), specs.get(i)));
                }
                // GET_ID: a file's stable id (device and inode), the same over every path to it.
                if (nativeCards.get(0) instanceof dev.braid.cards.file.FileBlockCard file)
                {
                    serial = new String(file.stableId(), java.nio.charset.StandardCharsets.US_ASCII);
                }
            }
            else
            {
                store = new SharedBlockStore((long)config.sectorsPerQueue * queues);
                order = Policies.selector(config, "least-outstanding") == SelectorKind.QUEUE_AFFINE ?
                    new WriteOrder(queues, ringSize) : null;
                for (int i = 0; i < config.cards; i++)
                {
                    final SimDisk disk = newDisk(i);
                    disks.add(disk);
                    cards.add(recorded(disk));
                }
            }

            final DeviceQueue[] deviceQueues = new DeviceQueue[queues];
            long gpa = 0;
            for (int q = 0; q < queues; q++)
            {
                final RingLayout layout = config.packed ? RingLayout.packed(gpa, ringSize, 4) : RingLayout.split(gpa, ringSize, 4);
                final DriverQueue driver = config.packed ?
                    new PackedDriverQueue(memory, layout, true) : new SplitDriverQueue(memory, layout, true);
                deviceQueues[q] = config.packed ?
                    new PackedQueue(memory, ringSize, layout.descGpa(), layout.driverAreaGpa(), layout.deviceAreaGpa(), true, true) :
                    new SplitQueue(memory, ringSize, layout.descGpa(), layout.availGpa(), layout.usedGpa(), true, true);
                final GuestQueue guestQueue = new GuestQueue(new TappedQueue(driver, q, model), clock);
                final long area = RingLayout.alignUp(layout.endGpa(), 64);
                final long limit = config.requests > 0 ? Math.max(1, config.requests / queues + (q < config.requests % queues ? 1 : 0)) : 0;
                guests.add(BlkGuestWorkload.builder().queue(q, guestQueue).memory(memory).areaGpa(area)
                    .range((long)q * sectorsPerQueue, sectorsPerQueue)
                    .maxPerRequest(config.maxSectorsPerRequest).readPercent(config.readPercent).requests(limit)
                    .maxOutstanding(config.queueDepth).seed(config.seed * 31 + q).build());
                guestQueues.add(guestQueue);
                gpa = RingLayout.alignUp(area + (long)ringSize * slot, 4096);
            }
            device = VirtioBlkDevice.aggregate(new VirtioBlkDevice.Context().memory(memory).cards(cards)
                .queueCount(queues).maxSegments(16).serial(serial)
                .aggregation(Policies.aggregation(config, "least-outstanding")).health(config.health)
                .clock(clock).seed(config.seed).maxCards(SoakConfig.MAX_CARDS).onAgentAdded(onAgentAdded),
                deviceQueues, VirtioBlkDevice.offeredFeatures());
        }

        private BlockCard recorded(final SimDisk disk)
        {
            return order == null ? disk : new OrderRecordingDisk(disk, order);
        }

        private static String cardName(final NativeCards.Spec spec, final int index)
        {
            return (spec.kind() == NativeCards.Kind.FILE ? "file" : "nbd") + index;
        }

        private SimDisk newDisk(final int index)
        {
            final SimDisk.Builder b = SimDisk.builder("disk" + index, store).clock(clock).latency(latency)
                .queues(Math.min(8, Math.max(2, config.queues)), 64).seed(config.seed * 1_000_003L + index);
            if (config.bandwidth > 0)
            {
                b.bandwidth(Specs.bandwidthCap(config.bandwidth));
            }
            return b.build();
        }

        public AggregatedDevice device()
        {
            return device;
        }

        public List<Agent> guests()
        {
            return List.copyOf(guests);
        }

        public List<GuestQueue> guestQueues()
        {
            return List.copyOf(guestQueues);
        }

        public List<FaultTarget> faultTargets()
        {
            if (!nativeTargets.isEmpty())
            {
                return new ArrayList<>(nativeTargets);
            }
            return List.copyOf(disks);
        }

        public List<TimerSource> timerSources()
        {
            return List.copyOf(disks);
        }

        public int hotAddCard()
        {
            if (!nativeCards.isEmpty())
            {
                // Another path of the first card's spec (a file opened again, a new NBD connection set).
                final NativeCards.Spec spec = config.nativeSpecs().get(0);
                final BlockCard card = NativeCards.openBlock(spec, cardName(spec, nativeCards.size()), cardQueues, 64);
                final int index = device.hotAdd(card);
                while (nativeCards.size() <= index)
                {
                    nativeCards.add(null);
                    nativeTargets.add(null);
                }
                nativeCards.set(index, card);
                nativeTargets.set(index, new NativeTarget(card, spec));
                return index;
            }
            final SimDisk disk = newDisk(disks.size());
            final int index = device.hotAdd(recorded(disk));
            while (disks.size() <= index)
            {
                disks.add(null);
            }
            disks.set(index, disk);
            return index;
        }

        public long outstanding()
        {
            return KindRig.sum(guests, BlkGuestWorkload::outstanding);
        }

        public long duplicates()
        {
            return KindRig.sum(guests, BlkGuestWorkload::strays);
        }

        public long corrupt()
        {
            return KindRig.sum(guests, BlkGuestWorkload::corrupt);
        }

        public long errors()
        {
            return KindRig.sum(guests, BlkGuestWorkload::errors);
        }

        public long checked()
        {
            return KindRig.sum(guests, BlkGuestWorkload::reads);
        }

        public long cardInFlight(final int card)
        {
            if (!nativeCards.isEmpty())
            {
                final BlockCard c = card < nativeCards.size() ? nativeCards.get(card) : null;
                long n = 0;
                for (int q = 0; c != null && q < c.queueCount(); q++)
                {
                    n += NativeCards.inFlight(c, q);
                }
                return n;
            }
            final SimDisk disk = card < disks.size() ? disks.get(card) : null;
            return KindRig.inFlight(disk, q -> disk.inFlight(q));
        }

        public void close()
        {
            NativeCards.closeAll(nativeCards);
        }

        public long cardCompleted(final int card)
        {
            if (!nativeCards.isEmpty())
            {
                long n = 0;
                for (int g = 0; g < device.guestQueueCount(); g++)
                {
                    n += device.frontQueue(g).stats().cardCompleted(card);
                }
                return n;
            }
            final SimDisk disk = card < disks.size() ? disks.get(card) : null;
            return disk == null ? 0 : disk.completed();
        }

        public GuestModel model()
        {
            return model;
        }

        public boolean orderChecked()
        {
            return order != null;
        }

        public long outOfOrder()
        {
            return order == null ? 0 : order.outOfOrder();
        }

        public long orderExcused()
        {
            return order == null ? 0 : order.excused();
        }

        public long orderedWrites()
        {
            return order == null ? 0 : order.firstSubmissions();
        }

        public String detail()
        {
            long reads = 0;
            long writes = 0;
            for (final BlkGuestWorkload g : guests)
            {
                reads += g.reads();
                writes += g.writes();
            }
            return "reads " + reads + " (each verified), writes " + writes;
        }
    }
}
