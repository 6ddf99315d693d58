package dev.braid.examples.soak;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.testkit.guest.ScsiGuestWorkload;
import dev.braid.aggregator.scsi.ScsiControlQueue;
import dev.braid.aggregator.scsi.ScsiDevice;
import dev.braid.aggregator.scsi.ScsiTaskTable;
import dev.braid.aggregator.scsi.VirtioScsiDevice;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.TimerSource;
import dev.braid.sim.scsi.SimLun;
import dev.braid.sim.scsi.SimTarget;
import dev.braid.sim.scsi.SimHba;
import dev.braid.virtio.card.ScsiCard;
import dev.braid.testkit.driver.BufferChain;
import dev.braid.testkit.driver.DriverQueue;
import dev.braid.testkit.driver.PackedDriverQueue;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;
import dev.braid.virtio.queue.DeviceQueue;
import dev.braid.virtio.queue.PackedQueue;
import dev.braid.virtio.queue.SplitQueue;
import dev.braid.virtio.scsi.ScsiDescriptor;
import dev.braid.virtio.scsi.ScsiLun;
import dev.braid.virtio.scsi.VirtioScsi;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * virtio-scsi over simulated HBAs that reach one LUN (target 0, LUN 0) through a shared emulator
 * and backing store: multipath. Each request queue's guest owns a disjoint block range and checks
 * every read against the last write completed to it, as for blk.
 *
 * <p>Invariants: lost (posted, never completed), duplicated (strays), corrupted (reads that do not
 * verify, wrong residuals or used lengths), guest errors (CHECK CONDITIONs and failed responses;
 * ABORTED and RESET too unless the rig itself sent a task-management function that may end commands:
 * ABORT TASK answers them ABORTED, a LUN reset RESET).
 */
public final class ScsiKind implements DeviceKind
{
    static final int CDB = 32;
    static final int SENSE = 96;

    public String name()
    {
        return "scsi";
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

    /** The built scsi rig; scenarios send task-management functions through it. */
    public static final class Rig implements KindRig
    {
        private static final int EVENT_BUFFERS = 4;

        private final SoakConfig config;
        private final NanoClock clock;
        private final long latencyNanos;
        private final GuestMemory memory;
        private final SimTarget[] scsiTargets;
        private final List<SimHba> hbas = new ArrayList<>();
        private final List<FaultTarget> targets = new ArrayList<>();
        private final List<ScsiGuestWorkload> guests = new ArrayList<>();
        private final List<GuestQueue> guestQueues = new ArrayList<>();
        private final ScsiDevice scsi;
        private final BlockModel model = new BlockModel(BlockModel.Format.SCSI);
        private final AggregatedDevice device;
        private final ScsiControlQueue control;
        private final DriverQueue controlDriver;
        private final long tmfGpa;
        private final Agent controlGuest = new Agent()
        {
            public int doWork()
            {
                return reapControl();
            }

            public String roleName()
            {
                return "braid-guest-scsi-control";
            }
        };
        private int tmfId = -1;
        private volatile int tmfResponse = -1;
        private long tmfsSent;
        private long[] affectedAtTmf = new long[0];
        private long tmfOrderViolations;

        Rig(final SoakConfig config, final NanoClock clock, final Consumer<Agent> onAgentAdded)
        {
            this.config = config;
            this.clock = clock;
            this.latencyNanos = Math.max(1_000, Specs.meanLatencyNanos(config.latency));
            final int queues = config.queues;
            final int ringSize = config.ringSize();
            final int slot = ScsiGuestWorkload.slotBytes(CDB, SENSE, config.maxSectorsPerRequest);
            final long perQueue = RingLayout.alignUp(64L * 1024 + (long)ringSize * 64 + (long)ringSize * slot, 4096);
            memory = GuestMemory.allocate((int)Math.min(Integer.MAX_VALUE, perQueue * queues + (1 << 20)));
            final SharedBlockStore store = new SharedBlockStore((long)config.sectorsPerQueue * queues);
            scsiTargets = new SimTarget[]{ new SimTarget(new SimLun(store, new AtomicLong(), "BRAID0", 1)) };

            final RingLayout controlLayout = layout(0, 16);
            final RingLayout eventLayout = layout(RingLayout.alignUp(controlLayout.endGpa(), 4096), 8);
            tmfGpa = RingLayout.alignUp(eventLayout.endGpa(), 4096);
            final long eventArea = tmfGpa + 4096;
            controlDriver = driverQueue(controlLayout);
            final DriverQueue eventDriver = driverQueue(eventLayout);

            long gpa = eventArea + 4096;
            final DeviceQueue[] requestQueues = new DeviceQueue[queues];
            for (int q = 0; q < queues; q++)
            {
                final RingLayout l = layout(gpa, ringSize);
                requestQueues[q] = deviceQueue(l);
                final GuestQueue guestQueue = new GuestQueue(new TappedQueue(driverQueue(l), q, model), clock);
                final long area = RingLayout.alignUp(l.endGpa(), 64);
                final long limit = config.requests > 0 ?
                    Math.max(1, config.requests / queues + (q < config.requests % queues ? 1 : 0)) : 0;
                guests.add(ScsiGuestWorkload.builder().queue(q, guestQueue).memory(memory).areaGpa(area)
                    .sizes(CDB, SENSE).range((long)q * config.sectorsPerQueue, config.sectorsPerQueue)
                    .maxPerRequest(config.maxSectorsPerRequest).readPercent(config.readPercent).requests(limit)
                    .maxOutstanding(config.queueDepth).seed(config.seed * 31 + q).build());
                guestQueues.add(guestQueue);
                gpa = RingLayout.alignUp(area + (long)ringSize * slot, 4096);
            }

            final List<ScsiCard> cards = new ArrayList<>();
            for (int i = 0; i < config.cards; i++)
            {
                cards.add(newHba(i));
            }
            scsi = VirtioScsiDevice.aggregate(new VirtioScsiDevice.Context().memory(memory).cards(cards)
                .requestQueues(queues).maxSegments(16).aggregation(Policies.aggregation(config, "least-outstanding"))
                .health(config.health).clock(clock).seed(config.seed).maxCards(SoakConfig.MAX_CARDS)
                .onAgentAdded(onAgentAdded), deviceQueue(controlLayout), deviceQueue(eventLayout), requestQueues, CDB, SENSE);
            device = scsi.device();
            control = scsi.controlQueue();
            for (int i = 0; i < EVENT_BUFFERS; i++)
            {
                eventDriver.addBuffer(eventArea + i * 64L, ScsiDescriptor.EVENT_LENGTH, true);
            }
            eventDriver.publish();
        }

        private RingLayout layout(final long gpa, final int size)
        {
            return config.packed ? RingLayout.packed(gpa, size, 4) : RingLayout.split(gpa, size, 4);
        }

        private DeviceQueue deviceQueue(final RingLayout l)
        {
            return config.packed ?
                new PackedQueue(memory, l.queueSize(), l.descGpa(), l.driverAreaGpa(), l.deviceAreaGpa(), true, true) :
                new SplitQueue(memory, l.queueSize(), l.descGpa(), l.availGpa(), l.usedGpa(), true, true);
        }

        private DriverQueue driverQueue(final RingLayout l)
        {
            return config.packed ? new PackedDriverQueue(memory, l, true) : new SplitDriverQueue(memory, l, true);
        }

        private SimHba newHba(final int index)
        {
            final SimHba hba = new SimHba("hba" + index, clock, scsiTargets, Math.min(8, Math.max(2, config.queues)), 64,
                latencyNanos);
            place(index, hba);
            return hba;
        }

        private void place(final int index, final SimHba hba)
        {
            while (hbas.size() <= index)
            {
                hbas.add(null);
                targets.add(null);
            }
            hbas.set(index, hba);
            targets.set(index, hba);
        }

        // ------------------------------------------------------------ task management (guest side)

        /**
         * Posts a reset TMF for LUN 0 on the control queue (driving thread, deterministic mode).
         * Remembers which tasks the device held: none may still be outstanding once the TMF completes.
         */
        public void sendTmf(final int subtype)
        {
            memory.setMemory(tmfGpa, 64, (byte)0);
            memory.putInt(tmfGpa + ScsiDescriptor.TMF_TYPE_OFFSET, VirtioScsi.VIRTIO_SCSI_T_TMF);
            memory.putInt(tmfGpa + ScsiDescriptor.TMF_SUBTYPE_OFFSET, subtype);
            memory.putLong(tmfGpa + ScsiDescriptor.TMF_LUN_OFFSET, ScsiLun.encode(0, 0));
            memory.putLong(tmfGpa + ScsiDescriptor.TMF_ID_OFFSET, 0);
            memory.putByte(tmfGpa + 32, (byte)0xEE);
            // Tasks the device holds now (popped, not completed) must complete before the reset does.
            final ScsiTaskTable tasks = scsi.tasks();
            final List<Long> affected = new ArrayList<>();
            for (int i = 0; i < tasks.entries(); i++)
            {
                if (ScsiTaskTable.phase(tasks.state(i)) == ScsiTaskTable.ACTIVE)
                {
                    affected.add(tasks.tag(i));
                }
            }
            affectedAtTmf = affected.stream().mapToLong(Long::longValue).toArray();
            tmfResponse = -1;
            tmfId = controlDriver.addChain(new BufferChain(2).readable(tmfGpa, ScsiDescriptor.TMF_REQ_LENGTH)
                .writable(tmfGpa + 32, 1), false);
            if (tmfId >= 0)
            {
                tmfsSent++;
                controlDriver.publish();
            }
        }

        /** The last TMF's response byte, or -1 while it is in progress. */
        public int tmfResponse()
        {
            return tmfResponse;
        }

        /** Tasks outstanding at a TMF that were still outstanding once the guest saw it complete. */
        public long tmfOrderViolations()
        {
            return tmfOrderViolations;
        }

        /** Tasks the device held when the last TMF was sent. */
        public int tmfAffectedSample()
        {
            return affectedAtTmf.length;
        }

        public List<SimHba> hbas()
        {
            return List.copyOf(hbas);
        }

        private int reapControl()
        {
            return controlDriver.reap((id, length) ->
            {
                // What the guest can see once the TMF is visible: reap the request queues first.
                for (int q = 0; q < guests.size(); q++)
                {
                    guestQueues.get(q).reap(guests.get(q));
                }
                for (int q = 0; q < guests.size(); q++)
                {
                    for (final long tag : affectedAtTmf)
                    {
                        if (guests.get(q).isOutstanding(tag))
                        {
                            tmfOrderViolations++;
                        }
                    }
                }
                tmfResponse = id == tmfId && length == 1 ? memory.getByte(tmfGpa + 32) & 0xFF : 0x100;
            });
        }

        // ------------------------------------------------------------ KindRig

        public AggregatedDevice device()
        {
            return device;
        }

        public List<Agent> deviceAgents()
        {
            final List<Agent> agents = new ArrayList<>(device.agents());
            agents.add(control);
            return agents;
        }

        public List<Agent> guests()
        {
            final List<Agent> agents = new ArrayList<>(guests);
            agents.add(controlGuest);
            return agents;
        }

        public GuestModel model()
        {
            return model;
        }

        public List<GuestQueue> guestQueues()
        {
            return List.copyOf(guestQueues);
        }

        public List<FaultTarget> faultTargets()
        {
            return new ArrayList<>(targets);
        }

        public List<TimerSource> timerSources()
        {
            // The HBAs are polled, not timed: while commands are in flight, wake often enough that
            // their service time shows.
            final TimerSource hbaPoll = () ->
            {
                for (int g = 0; g < device.guestQueueCount(); g++)
                {
                    if (device.frontQueue(g).inFlight() > 0)
                    {
                        return clock.nanoTime() + Math.max(1_000, latencyNanos / 2);
                    }
                }
                return tmfResponse < 0 && tmfsSent > 0 ? clock.nanoTime() + Math.max(1_000, latencyNanos / 2) :
                    TimerSource.NONE;
            };
            return List.of(hbaPoll);
        }

        public int hotAddCard()
        {
            final SimHba hba = new SimHba("hba" + hbas.size(), clock, scsiTargets, Math.min(8, Math.max(2, config.queues)),
                64, latencyNanos);
            final int index = device.hotAdd(hba);
            place(index, hba);
            return index;
        }

        public long outstanding()
        {
            return (tmfResponse < 0 && tmfsSent > 0 ? 1 : 0) + KindRig.sum(guests, ScsiGuestWorkload::outstanding);
        }

        public long duplicates()
        {
            return controlDriver.deviceFaults() + KindRig.sum(guests, ScsiGuestWorkload::strays);
        }

        public long corrupt()
        {
            return KindRig.sum(guests, g -> g.corrupt() + g.badLengths());
        }

        public long errors()
        {
            return tmfOrderViolations + (tmfResponse > 0 ? 1 : 0) +
                KindRig.sum(guests, g -> g.checkConditions() + g.failures() + (tmfsSent > 0 ? 0 : g.aborted() + g.resets()));
        }

        public long checked()
        {
            return KindRig.sum(guests, ScsiGuestWorkload::reads);
        }

        public long cardInFlight(final int card)
        {
            final SimHba hba = card < hbas.size() ? hbas.get(card) : null;
            return KindRig.inFlight(hba, q -> hba.inFlight(q));
        }

        public long cardCompleted(final int card)
        {
            final SimHba hba = card < hbas.size() ? hbas.get(card) : null;
            return hba == null ? 0 : hba.commandsSubmitted();
        }

        public String detail()
        {
            long reads = 0;
            long writes = 0;
            for (final ScsiGuestWorkload g : guests)
            {
                reads += g.reads();
                writes += g.writes();
            }
            return "reads " + reads + " (each verified), writes " + writes + ", TMFs " + control.tmfsCompleted();
        }

        public Map<String, Long> extra()
        {
            long checkConditions = 0;
            long failures = 0;
            long aborted = 0;
            long resets = 0;
            long badLengths = 0;
            for (final ScsiGuestWorkload g : guests)
            {
                checkConditions += g.checkConditions();
                failures += g.failures();
                aborted += g.aborted();
                resets += g.resets();
                badLengths += g.badLengths();
            }
            final Map<String, Long> m = new LinkedHashMap<>();
            m.put("check_conditions", checkConditions);
            m.put("failed_responses", failures);
            m.put("aborted", aborted);
            m.put("reset", resets);
            m.put("bad_lengths", badLengths);
            m.put("tmfs_sent", tmfsSent);
            m.put("tmfs_completed", control.tmfsCompleted());
            m.put("tmf_order_violations", tmfOrderViolations);
            return m;
        }
    }
}
