package dev.braid.examples;

import dev.braid.aggregator.AgentThreads;
import dev.braid.aggregator.QueueStats;
import dev.braid.aggregator.blk.VirtioBlkDevice;
import dev.braid.testkit.guest.BlkGuestWorkload;
import dev.braid.ha.Aggregation;
import dev.braid.ha.AllDownPolicy;
import dev.braid.mapper.SelectorKind;
import dev.braid.sim.LatencyModel;
import dev.braid.sim.SharedBlockStore;
import dev.braid.sim.SimDisk;
import dev.braid.virtio.card.BlockCard;
import dev.braid.virtio.device.DeviceStatus;
import dev.braid.virtio.device.VirtioDeviceCore;
import dev.braid.virtio.device.VirtioFeatures;
import dev.braid.testkit.driver.RingLayout;
import dev.braid.testkit.driver.SplitDriverQueue;
import dev.braid.virtio.memory.GuestMemory;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a VMM does to embed Braid, in one place: it owns guest memory, builds one virtio-blk device
 * over two (simulated) disks, plays the transport (feature negotiation, queue setup, DRIVER_OK),
 * forwards kicks, injects interrupts, and reads the stats. The "guest" is Braid's driver model
 * writing and verifying data; in a real VMM it is the guest kernel's virtio-blk driver.
 */
public final class MinimalVmm
{
    private static final int QUEUE_SIZE = 128;
    private static final long RING_GPA = 0x10000;
    private static final long BUFFERS_GPA = 0x100000;
    private static final int REQUESTS = 500;

    /** What the run showed: requests done, guest-visible problems, interrupts and kicks. */
    public record Outcome(long completed, long errors, long corrupt, long strays, long interrupts, long kicks)
    {
        public boolean ok()
        {
            return completed == REQUESTS && errors == 0 && corrupt == 0 && strays == 0 && interrupts > 0;
        }
    }

    private MinimalVmm()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Outcome outcome = run(new PrintWriter(System.out, true));
        System.exit(outcome.ok() ? 0 : 1);
    }

    public static Outcome run(final PrintWriter out) throws InterruptedException
    {
        // 1. Guest memory: the VMM owns it; Braid only ever touches it through bounds-checked accessors.
        final GuestMemory memory = GuestMemory.allocate(8 << 20);

        // 2. Cards. Two simulated disks over one backing store stand in for two real ones.
        final SharedBlockStore store = new SharedBlockStore(8192);
        final List<BlockCard> cards = List.of(
            SimDisk.builder("disk-a", store).latency(LatencyModel.uniform(10_000, 30_000)).build(),
            SimDisk.builder("disk-b", store).latency(LatencyModel.uniform(10_000, 30_000)).build());

        // 3. The device. Interrupts go to the VMM's interrupt controller (here: a counter); on DRIVER_OK
        //    the device hands over its agents, which the VMM runs on threads of its choosing.
        final AtomicLong interrupts = new AtomicLong();
        final AtomicLong kicks = new AtomicLong();
        final AtomicReference<AgentThreads> threads = new AtomicReference<>();
        final VirtioBlkDevice blk = new VirtioBlkDevice(new VirtioBlkDevice.Context()
            .memory(memory).cards(cards).queueCount(1).queueMaxSize(QUEUE_SIZE)
            .aggregation(Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING))
            .allDown(AllDownPolicy.queueUntilDeadline(5_000_000_000L))
            .interrupts(queue -> interrupts.incrementAndGet())
            .configInterrupt(() -> out.println("config interrupt (device needs reset)"))
            .onActivate(agents -> threads.set(AgentThreads.start(agents, 1, AgentThreads.backoff())))
            .onDeactivate(() -> threads.getAndSet(null).close()));
        out.println("capacity " + blk.readConfig(0, 8) + " sectors (the smallest card's)");

        // 4. The transport: the driver's status dance and feature negotiation, forwarded register by register.
        final VirtioDeviceCore core = blk.core();
        blk.writeStatus(DeviceStatus.ACKNOWLEDGE);
        blk.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        final long wanted = core.features().offered() & ~(1L << VirtioFeatures.RING_PACKED);
        if (!core.features().ackFeatures(wanted))
        {
            throw new IllegalStateException("the device refused features it offered");
        }
        blk.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
        out.printf("features acked 0x%x%n", core.features().acked());

        // 5. Queue setup: the driver picks ring addresses in guest memory and tells the transport.
        final RingLayout layout = RingLayout.split(RING_GPA, QUEUE_SIZE, 4);
        core.queueSelect(0);
        core.queueSize(QUEUE_SIZE);
        core.queueDescriptorArea(layout.descGpa());
        core.queueDriverArea(layout.availGpa());
        core.queueDeviceArea(layout.usedGpa());
        core.queueEnable(1);
        blk.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        if (blk.device() == null)
        {
            throw new IllegalStateException("DRIVER_OK did not activate the device");
        }

        // 6. The guest: posts requests and kicks; the VMM forwards each kick to the device.
        final BlkGuestWorkload guest = BlkGuestWorkload.builder().queue(0, new SplitDriverQueue(memory, layout, true))
            .memory(memory).areaGpa(BUFFERS_GPA).range(0, 4096).requests(REQUESTS).maxOutstanding(32).seed(42)
            .kicker(queue ->
            {
                kicks.incrementAndGet();
                blk.kick(queue);
            })
            .build();
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (!guest.isFinished() && System.nanoTime() < deadline)
        {
            if (guest.doWork() == 0)
            {
                Thread.onSpinWait();
            }
            blk.checkHealth();
        }

        // 7. Stats: what the front queue saw, and how the two cards shared the work.
        final QueueStats stats = blk.frontQueue(0).stats();
        out.printf("guest: %d requests, %d reads verified, %d writes, errors %d, corrupt %d, strays %d%n",
            guest.completed(), guest.reads(), guest.writes(), guest.errors(), guest.corrupt(), guest.strays());
        for (int counter = 0; counter < QueueStats.counterCount(); counter++)
        {
            out.printf("  %-15s %d%n", QueueStats.counterName(counter), stats.get(counter));
        }
        out.printf("cards: %s served %d, %s served %d%n", cards.get(0).name(), stats.cardCompleted(0),
            cards.get(1).name(), stats.cardCompleted(1));
        final var latency = stats.takeLatencyInterval();
        out.printf("device latency p50 %.1fus p99 %.1fus; interrupts injected %d, kicks forwarded %d%n",
            latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3, interrupts.get(), kicks.get());

        // 8. Reset: the driver writes 0; the device fences the cards and the VMM stops the agents.
        blk.writeStatus(0);
        final Outcome outcome = new Outcome(guest.completed(), guest.errors(), guest.corrupt(), guest.strays(),
            interrupts.get(), kicks.get());
        out.println(outcome.ok() ? "example: OK" : "example: FAILED " + outcome);
        return outcome;
    }
}
