package dev.braid.vhostuser;

import dev.braid.virtio.memory.GuestMemory;

import java.util.function.IntConsumer;

/**
 * The only contact between the vhost-user transport and a Braid device: what the device offers
 * (features, queues, config space) and how its rings are started over the front end's memory and
 * stopped again. Keeping it to one small interface lets device construction change (one Context
 * per device) by changing its implementations only. Control thread only, except {@code calls},
 * which the device's agents invoke to interrupt the guest.
 */
public interface BackendDevice extends AutoCloseable
{
    /** The virtio feature bits the device offers (vhost-user bit 30 is the transport's, not included). */
    long features();

    /** How many queues the device can serve (GET_QUEUE_NUM). */
    int maxQueues();

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

    /** Whether {@link #start} succeeded and {@link #stop} has not been called since. */
    boolean isRunning();

    /**
     * Stops every ring after the requests in flight completed (bounded wait), and writes each
     * ring's next avail index into {@code bases}. Returns how many requests were abandoned (0 normally).
     */
    int stop(int[] bases);

    /** Stops if running; releases whatever the device holds. */
    void close();
}
