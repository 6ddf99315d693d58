package dev.braid.virtio.queue;

/**
 * Outcomes of {@link DeviceQueue#pop}. Non-negative values are normal; negative values name the
 * rule that the guest's driver broke. Codes, not exceptions: bad guest input is not exceptional
 * for a device, and the hot path throws nothing.
 *
 * <p>Two kinds of error:
 * <ul>
 *   <li><b>Chain errors</b> ({@link #isChainError}): the head id is known, the chain is consumed
 *       and the caller completes it with a used length of 0 (and IOERR where the device can write
 *       a status). The queue stays usable.</li>
 *   <li><b>Ring errors</b> ({@link #isRingError}): the ring itself is incoherent (an index jump, a
 *       head out of range). The queue is marked broken and the device sets DEVICE_NEEDS_RESET; the
 *       queue pops nothing more until reset.</li>
 * </ul>
 */
public final class ChainStatus
{
    /** A chain was popped into the caller's {@link DescriptorChain}. */
    public static final int POPPED = 1;
    /** Nothing new is available. */
    public static final int EMPTY = 0;

    // Chain errors: the head is known; complete it with length 0.
    public static final int NEXT_OUT_OF_RANGE = -1;
    public static final int CHAIN_TOO_LONG = -2;
    public static final int INDIRECT_BAD_LENGTH = -3;
    public static final int NESTED_INDIRECT = -4;
    public static final int INDIRECT_WITH_NEXT = -5;
    public static final int READABLE_AFTER_WRITABLE = -6;
    public static final int ADDRESS_OUT_OF_MEMORY = -7;
    public static final int TOO_MANY_SEGMENTS = -8;
    /** INDIRECT set although VIRTIO_F_INDIRECT_DESC was not negotiated. */
    public static final int INDIRECT_NOT_NEGOTIATED = -9;

    // Ring errors: the queue is broken; the device needs a reset.
    public static final int HEAD_OUT_OF_RANGE = -32;
    public static final int AVAIL_INDEX_JUMP = -33;
    public static final int QUEUE_BROKEN = -34;
    public static final int QUEUE_NOT_READY = -35;
    /** Packed ring: a NEXT chain runs into a descriptor that is not available, so its id is unknown. */
    public static final int CHAIN_UNTERMINATED = -36;
    /** Packed ring: the driver reused a buffer id that is still in flight. */
    public static final int BUFFER_ID_IN_USE = -37;

    private ChainStatus()
    {
    }

    public static boolean isChainError(final int status)
    {
        return status < 0 && status > -32;
    }

    public static boolean isRingError(final int status)
    {
        return status <= -32;
    }

    public static String describe(final int status)
    {
        switch (status)
        {
            case POPPED: return "popped";
            case EMPTY: return "empty";
            case NEXT_OUT_OF_RANGE: return "descriptor next index out of range";
            case CHAIN_TOO_LONG: return "chain longer than the queue size (loop)";
            case INDIRECT_BAD_LENGTH: return "indirect table length is 0, not a multiple of 16, or too long";
            case NESTED_INDIRECT: return "indirect descriptor inside an indirect table";
            case INDIRECT_WITH_NEXT: return "INDIRECT combined with NEXT";
            case READABLE_AFTER_WRITABLE: return "device-readable descriptor after a device-writable one";
            case ADDRESS_OUT_OF_MEMORY: return "buffer address or length overflows or falls outside guest memory";
            case TOO_MANY_SEGMENTS: return "chain has more segments than the device accepts";
            case INDIRECT_NOT_NEGOTIATED: return "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
            case HEAD_OUT_OF_RANGE: return "head index out of range";
            case AVAIL_INDEX_JUMP: return "available index moved by more than the queue size";
            case QUEUE_BROKEN: return "queue is broken and needs a reset";
            case QUEUE_NOT_READY: return "queue is not set up";
            case CHAIN_UNTERMINATED: return "chain does not end within the available descriptors";
            case BUFFER_ID_IN_USE: return "buffer id is already in flight";
            default: return "unknown status " + status;
        }
    }
}
