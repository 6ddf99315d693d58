package dev.braid.virtio.card;

/**
 * A disk: multi-queue, asynchronous, zero copy. Every card of an aggregated blk device sees the
 * same logical disk (shared storage, a replicated volume, or one LUN behind several paths).
 */
public interface BlockCard extends Card
{
    /** Capacity in 512-byte sectors. */
    long capacitySectors();

    /**
     * Starts {@code io} on queue {@code queue}. The card DMAs straight between the medium and
     * {@code io.data()}, then calls {@code sink.complete(token, CardStatus, bytes)} exactly once,
     * unless it is fenced first.
     *
     * @return false when the queue is full or the card is fenced; nothing was started.
     */
    boolean submit(int queue, BlockIo io, long token, CompletionSink sink);

    /**
     * The largest read or write, in bytes, the card takes as one request (an NBD server's maximum
     * payload); a larger one completes {@link CardStatus#INVALID}. A device over the card advertises
     * limits that keep the guest's requests within it.
     */
    default long maxTransferBytes()
    {
        return Long.MAX_VALUE;
    }
}
