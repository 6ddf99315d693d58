package dev.braid.examples.soak;

import dev.braid.aggregator.AbstractVirtioDevice;
import dev.braid.aggregator.CompletionToken;
import dev.braid.ha.Failback;
import dev.braid.ha.HealthConfig;

/**
 * Everything one soak run needs. Plain mutable fields with sensible defaults; {@link #validate()}
 * checks them with the CLI's one-line messages, so tests and the CLI share the rules.
 */
public final class SoakConfig
{
    public static final int MAX_CARDS = 8;

    /** The smallest transfer a blk or scsi request makes. */
    static final int SECTOR_BYTES = 512;

    public String device = "blk";
    public int cards = 4;
    /** "aa" (active-active) or "ap" (active-passive). */
    public String mode = "aa";
    /** Null: the device kind's default (blk: least-outstanding spray; ap: queue-affine). */
    public String selector;
    public int queues = 2;
    public int queueDepth = 64;
    public boolean packed;
    /** Run length; 0 when bounded by {@link #requests} instead. */
    public long durationNanos = 30_000_000_000L;
    /** Total requests over all guest queues; 0 when bounded by {@link #durationNanos}. */
    public long requests;
    /** none, light, heavy, demo, or a schedule file path. */
    public String faults = "demo";
    public long seed = 1;
    public boolean threaded = true;
    public String latency = "uniform:10us-50us";
    /** Per-card bytes/s, 0 for no cap. */
    public long bandwidth;
    public int readPercent = 50;
    public int maxSectorsPerRequest = 8;
    /** blk: sectors each guest queue owns (smaller ranges mean more reads hit written data). */
    public int sectorsPerQueue = 4096;
    public Failback failback = Failback.immediate();
    /** Quiesce bound: how long outstanding requests may take to drain at the end. */
    public long quiesceNanos = 10_000_000_000L;
    /** Sampling interval for the chart and the per-interval numbers; 0 picks duration/120. */
    public long intervalNanos;
    public HealthConfig health = defaultHealth();
    /** Native card specs ({@code --card}); empty: {@link #cards} simulated cards. */
    public java.util.List<String> cardSpecs = java.util.List.of();
    /** Run even over cards that provably serve different disks (different files or sizes). */
    public boolean forceIdentity;
    /** net over native cards: the guest's address and the real peer it talks to (MAC and IPv4). */
    public int guestIp;
    public int peerIp;
    public long peerMac;
    private java.util.List<NativeCards.Spec> nativeSpecs = java.util.List.of();

    /** Whether the cards are native ({@code --card}). */
    public boolean isNative()
    {
        return !cardSpecs.isEmpty();
    }

    /** The checked native specs (after {@link #validate()}). */
    public java.util.List<NativeCards.Spec> nativeSpecs()
    {
        return nativeSpecs;
    }

    public static HealthConfig defaultHealth()
    {
        return new HealthConfig()
            .completionTimeoutNanos(20_000_000L)
            .minDownNanos(10_000_000L)
            .maxDownNanos(1_000_000_000L)
            .probeIntervalNanos(5_000_000L)
            .stableNanos(2_000_000_000L);
    }

    /**
     * Health for native cards: real I/O on a shared machine takes tens of ms now and then, so a
     * card is called dead after 500 ms without an answer (a dead path's detection time).
     */
    public static HealthConfig nativeHealth()
    {
        return defaultHealth().completionTimeoutNanos(500_000_000L);
    }

    public boolean activePassive()
    {
        return "ap".equals(mode);
    }

    /** Checks every field; throws a {@link UsageException} naming the option of the first bad one. */
    public SoakConfig validate()
    {
        if (!DeviceKinds.names().contains(device))
        {
            throw new UsageException("--device must be one of " + String.join(", ", DeviceKinds.names()) + ": " + device);
        }
        if (cards < 1 || cards > MAX_CARDS)
        {
            throw new UsageException("--cards must be 1.." + MAX_CARDS + ": " + cards);
        }
        if (!"aa".equals(mode) && !"ap".equals(mode))
        {
            throw new UsageException("--mode must be aa or ap: " + mode);
        }
        if (queues < 1 || queues > 16)
        {
            throw new UsageException("--queues must be 1..16: " + queues);
        }
        if (queueDepth < 1 || queueDepth > 1024)
        {
            throw new UsageException("--queue-depth must be 1..1024: " + queueDepth);
        }
        if (durationNanos < 0 || requests < 0 || (durationNanos == 0 && requests == 0))
        {
            throw new UsageException("--duration or --requests must be positive");
        }
        if (readPercent < 0 || readPercent > 98)
        {
            throw new UsageException("--read-percent must be 0..98: " + readPercent);
        }
        checkQueueBudget(queues, queueDepth);
        checkServiceTime();
        if (isNative())
        {
            nativeSpecs = NativeCards.parse(cardSpecs, device, forceIdentity);
            cards = nativeSpecs.size();
            if (!threaded)
            {
                throw new UsageException("--deterministic runs simulated cards only: native cards (--card) run in real time");
            }
            if ("net".equals(device) && (guestIp == 0 || peerIp == 0 || peerMac == 0))
            {
                throw new UsageException("--device net --card tap:... needs --guest-ip, --peer-ip and --peer-mac " +
                    "(the real host on the TAPs' network that answers ping and UDP echo on port 7)");
            }
        }
        return this;
    }

    /**
     * The device queues the guest programs, each as a virtio device counts them (at least
     * {@link AbstractVirtioDevice#MIN_QUEUE_ENTRIES}), must fit the budget a VMM's device accepts;
     * two more queues cover scsi's control and event queues and net's control queue. The flags'
     * own ranges keep within it today (16 x 1024); this keeps a wider range honest.
     */
    public static void checkQueueBudget(final int queues, final int queueDepth)
    {
        final long deviceQueues = queues + 2L;
        final long ring = Math.max(Long.highestOneBit(Math.max(1, queueDepth - 1)) << 1, 2);
        final long entries = deviceQueues * Math.max(ring, AbstractVirtioDevice.MIN_QUEUE_ENTRIES);
        if (deviceQueues >= CompletionToken.MAX_GUEST_QUEUES || entries > AbstractVirtioDevice.MAX_QUEUE_ENTRIES)
        {
            throw new UsageException("--queues x --queue-depth must fit the device's " +
                AbstractVirtioDevice.MAX_QUEUE_ENTRIES + " queue entries: " + queues + " x " + queueDepth);
        }
    }

    /** Latency and bandwidth that leave requests able to finish, and virtual time able to move. */
    private void checkServiceTime()
    {
        Specs.latency(latency);
        final long median = Specs.medianLatencyNanos(latency);
        final long timeout = health.completionTimeoutNanos();
        if (median >= timeout)
        {
            throw new UsageException("--latency must stay below the completion timeout of " + Specs.nanos(timeout) +
                " (half the requests or more would time out): " + latency);
        }
        if (bandwidth < 0 || (bandwidth > 0 && bandwidth * (double)timeout / 1e9 < SECTOR_BYTES))
        {
            throw new UsageException("--bandwidth must move a " + SECTOR_BYTES + "-byte sector within the completion " +
                "timeout of " + Specs.nanos(timeout) + ": " + bandwidth + " B/s");
        }
        if (!threaded && durationNanos > 0 && median == 0 && bandwidth == 0)
        {
            // Virtual time moves only when every agent is idle; with nothing taking time it never does.
            throw new UsageException("--latency must be above 0 with --deterministic --duration (virtual time " +
                "would never advance; use --requests): " + latency);
        }
    }

    /** Ring size: the queue depth rounded up to a power of two (split rings need one). */
    public int ringSize()
    {
        int size = 1;
        while (size < queueDepth)
        {
            size <<= 1;
        }
        return Math.max(size, 2);
    }

    public String describe()
    {
        return device + " " + (isNative() ? String.join(" ", cardSpecs) : cards + " cards") + " " + mode + (selector != null ? " " + selector : "") + ", " + queues +
            " queue(s) x depth " + queueDepth + (packed ? " packed" : " split") + ", " +
            (requests > 0 ? requests + " requests" : Specs.nanos(durationNanos)) + ", faults " + faults +
            ", seed " + seed + ", " + (threaded ? "threaded" : "deterministic") + (isNative() ? "" : ", latency " + latency) +
            (bandwidth > 0 ? ", " + bandwidth / 1_000_000 + " MB/s per card" : "");
    }
}
