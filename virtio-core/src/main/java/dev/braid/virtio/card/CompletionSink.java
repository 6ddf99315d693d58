package dev.braid.virtio.card;

/**
 * Where a card reports finished work. The token is opaque to the card: it returns exactly the
 * token it was given. Implementations are thread-safe for many producers (one per card worker).
 *
 * <p>A card reports a completion, whatever its status, only once it will never again touch the
 * request's buffers: the aggregator may replay a failed request on another card at once.
 */
@FunctionalInterface
public interface CompletionSink
{
    /**
     * @param token  the token passed with the submission.
     * @param status a {@link CardStatus} code (blk, net) or a packed SCSI result ({@link ScsiIo}).
     * @param length bytes transferred into or out of guest memory.
     * @return false when the sink is momentarily full; the card keeps the completion and retries.
     */
    boolean complete(long token, int status, int length);
}
