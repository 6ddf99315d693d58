package dev.braid.vhostuser;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.virtio.memory.GuestMemory;

import java.util.function.IntConsumer;

/**
 * The only contact between the vhost-user transport and a Braid device: what the device offers
 * (features, queues, config space) and how its rings are started over the front end's memory and
 * stopped again. Keeping it to one small interface lets device construction change (one Context
 * per device) by changing its implementations only. Control thread only, except {@code calls},
 * which the device's agents invoke to interrupt the guest, and the monitors {@link #runningDevice()}
 * and {@link #starts()}, which any thread may read.
 */
public interface BackendDevice extends AutoCloseable
{
    /** The virtio feature bits the device offers (vhost-user bit 30 is the transport's, not included). */
    long features();

    /** How many queues the device can serve (GET_QUEUE_NUM). */
    int maxQueues();

    /**
     * GET_QUEUE_NUM's answer: the rings for blk and scsi; queue pairs for net, which QEMU compares
     * with its {@code queues=} (pairs).
     */
    default int queueNum()
    {
        return maxQueues();
    }

    /**
     * Of the {@code leading} started-and-enabled rings, how many the device can run (net: whole
     * rx/tx pairs only). 0 leaves the device stopped until more rings start.
     */
    default int usableRings(final int leading)
    {
        return leading;
    }

    /** The vhost-user protocol features offered (GET_PROTOCOL_FEATURES); a subset of what the back end implements. */
    default long protocolFeatures()
    {
        return VhostUserDescriptor.PROTOCOL_FEATURES_OFFERED;
    }

    /**
     * The fewest leading rings the device can run on: with fewer started and enabled, the back end
     * waits for more rather than starting it (scsi needs control, event and one request ring).
     */
    default int minRings()
    {
        return 1;
    }

    /** The largest ring size accepted in SET_VRING_NUM. */
    int maxQueueSize();

    /** One byte of the device's config space, 0 outside it. */
    int readConfigByte(int offset);

    /**
     * Starts rings {@code 0..count-1}: ring q has {@code sizes[q]} entries at guest-physical
     * {@code desc[q]}, {@code avail[q]}, {@code used[q]} and continues from avail index {@code bases[q]}.
     * {@code calls} receives the ring index whenever the guest should be interrupted.
     *
     * @return why the device refused to start (one line), or null when it runs.
     */
    String start(GuestMemory memory, long features, int count, int[] sizes, long[] desc, long[] avail, long[] used,
        int[] bases, IntConsumer calls);

    /**
     * The kick eventfds of rings {@code 0..count-1} for the next {@link #start} (-1: none, the ring
     * is polled), valid until the following {@link #stop}: a device may block on them while idle.
     * The back end keeps owning them. Default: ignored, the rings are polled.
     */
    default void kickFds(final int[] kickFds, final int count)
    {
    }

    /** Whether {@link #start} succeeded and {@link #stop} has not been called since. */
    boolean isRunning();

    /**
     * Stops every ring after the requests in flight completed (bounded wait), and writes each
     * ring's next avail index into {@code bases}: every request before it was completed (or handed
     * back: net's rewound rx buffers, scsi's held event buffers), including one the device took while
     * it stopped. Returns how many requests were abandoned (0 normally).
     */
    int stop(int[] bases);

    /**
     * The aggregated device of the current start while it runs (from a start whose agents run to
     * the next stop), else null. Any thread: for monitors (queue counters, card health, the
     * failover log), which may keep reading a device after it stopped.
     */
    AggregatedDevice<?> runningDevice();

    /** How many times the device started (each start after a reset, restart, reboot or new front end). Any thread. */
    long starts();

    /** Stops if running; releases whatever the device holds. */
    void close();
}
