package dev.braid.virtio.queue;

/**
 * The device side of one virtqueue, split or packed. Owned by one thread (the FrontQueue that
 * serves it); thread-safe wrappers, where needed, live elsewhere.
 *
 * <p>The usual loop: {@link #pop} chains until EMPTY, hand them to cards, later {@link #addUsed}
 * completions in any order, {@link #publishUsed} the batch, then ask {@link #needsInterrupt}.
 */
public interface DeviceQueue
{
    /** Number of descriptors (queue size). */
    int size();

    /**
     * Pops the next available chain into {@code chain}.
     *
     * @return {@link ChainStatus#POPPED}, {@link ChainStatus#EMPTY}, or a negative error code.
     * On a chain error {@code chain.id()} is the id to complete with length 0.
     */
    int pop(DescriptorChain chain);

    /** Whether the driver has made a chain available that has not been popped. */
    boolean hasAvailable();

    /**
     * Stages a used element for buffer {@code id} with {@code writtenLength} bytes written into
     * its writable segments. Not visible to the driver until {@link #publishUsed}.
     */
    void addUsed(int id, int writtenLength);

    /** Makes every staged used element visible to the driver, with release semantics. */
    void publishUsed();

    /**
     * Whether the device should interrupt the driver now, given what was published since the last
     * call (honours EVENT_IDX or the NO_INTERRUPT flag). Resets the "published since" window.
     */
    boolean needsInterrupt();

    /** Asks the driver not to kick (no-notify flag, or avail_event left behind). */
    void disableNotifications();

    /**
     * Asks the driver to kick again. Returns true when chains became available meanwhile, in which
     * case the caller must pop again rather than sleep.
     */
    boolean enableNotifications();

    /** Whether a ring error has broken the queue; the device should set DEVICE_NEEDS_RESET. */
    boolean isBroken();

    /** The ring error that broke the queue, or 0. */
    int brokenReason();

    /** Chains popped but not yet completed with {@link #addUsed}. */
    int inFlight();

    /** Returns the queue to its state right after setup: indices, wrap counters, flags. */
    void reset();
}
