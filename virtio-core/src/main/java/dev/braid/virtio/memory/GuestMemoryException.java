package dev.braid.virtio.memory;

/**
 * An access that falls outside guest memory.
 *
 * <p>Braid validates every guest-controlled address before it touches memory, so this is thrown
 * only for a programming error inside Braid or for invalid configuration handed over by the VMM;
 * it is never the answer to bad guest input.
 */
public final class GuestMemoryException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public GuestMemoryException(final String message)
    {
        super(message);
    }
}
