package dev.braid.testkit.driver;

import dev.braid.virtio.memory.GuestMemory;

/**
 * The guest's side of one virtqueue: it posts buffer chains, notifies, and reaps completions, as a
 * guest's virtio driver would. Used by tests, the soak runner and benchmarks to drive Braid's
 * device-side queues through guest memory only.
 *
 * <p>Single-threaded: one driver thread owns the instance. Nothing allocates after construction.
 * Misuse by the calling test (a malformed {@link BufferChain}, an indirect chain without indirect
 * tables) throws; running out of descriptors returns {@link #NO_ROOM}; misbehaviour of the device
 * is counted in {@link #deviceFaults()}.
 *
 * <p>Typical cycle: {@code addChain}... {@code publish()}; {@code if (needsKick()) notifyDevice};
 * later {@code reap(consumer)}. To wait for an interrupt without a lost wake-up:
 * {@code enableInterrupts(); if (hasPendingUsed()) reap again, else sleep}.
 */
public interface DriverQueue
{
    /** {@link #addChain} found too few free descriptors or buffer ids. */
    int NO_ROOM = -1;

    int size();

    /** Whether VIRTIO_F_RING_EVENT_IDX was negotiated for this queue. */
    boolean eventIdx();

    RingLayout layout();

    GuestMemory memory();

    /**
     * Writes {@code chain} into the ring, direct or as one indirect table, without making it
     * visible to the device ({@link #publish()} does).
     *
     * @return the id that {@link UsedConsumer#onUsed} will report for it (split: head descriptor
     *         index; packed: buffer id), or {@link #NO_ROOM}
     * @throws IllegalArgumentException when the chain is not well formed or too long for the queue
     *         or its indirect tables
     */
    int addChain(BufferChain chain, boolean indirect);

    /** A chain of one element. */
    int addBuffer(long gpa, int length, boolean deviceWritable);

    /**
     * Makes every chain added since the last publish visible to the device, in order, with a
     * release store (split: avail.idx; packed: each chain's first descriptor flags).
     */
    void publish();

    /**
     * Whether the device asked to be notified of what was published since the last call: the
     * EVENT_IDX rule (split avail_event, packed device event suppression) or the NO_NOTIFY /
     * DISABLE flag. False when nothing was published since the last call.
     */
    boolean needsKick();

    /** Reaps every used buffer the device has published; returns how many were delivered. */
    int reap(UsedConsumer consumer);

    /** Reaps at most {@code limit} used buffers. */
    int reap(UsedConsumer consumer, int limit);

    /** Whether the device has published used buffers that were not reaped yet. */
    boolean hasPendingUsed();

    /** Asks for an interrupt on the next used buffer; ends with a full fence. */
    void enableInterrupts();

    /** Asks for no interrupts (best effort: the device may still send one). */
    void disableInterrupts();

    /**
     * EVENT_IDX only: asks for an interrupt once the device has used {@code n} more buffers
     * (split) or moved its used position {@code n} descriptors on (packed; equal to buffers when
     * every chain takes one descriptor). Ends with a full fence.
     *
     * @throws IllegalStateException without EVENT_IDX
     */
    void interruptAfter(int n);

    /** Free descriptors (split: table entries; packed: ring slots). */
    int numFree();

    /** Buffers posted and not reaped yet. */
    int inFlight();

    /** Device faults seen since construction or {@link #reset()}. */
    int deviceFaults();

    /** The last {@link DeviceFault} code, or {@link DeviceFault#NONE}. */
    int lastDeviceFault();

    /** The device broke the ring (or a malformed ring-level structure was posted); reap stops. */
    boolean broken();

    /**
     * Zeroes the rings and forgets every buffer in flight, as a driver does after a device reset.
     * The device side must be reset too.
     */
    void reset();
}
