package dev.braid.aggregator;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * What one device type (blk, net tx, net rx, net ctrl, scsi) does with a guest request, on the front
 * queue's side. One instance per front queue; per-request state lives in arrays indexed by the head
 * id ("slot"), preallocated. {@code C} is the card type the requests go to.
 *
 * <p>How a request reaches a card is a capability: a {@link PushHandler} starts it on the card, a
 * {@link PullHandler} has the card worker hold it until the card has data for it. A handler with
 * neither answers every request in {@link #prepare} (net ctrl).
 *
 * <p>{@link #prepare}, {@link #complete} and {@link #fail} run on the front queue's thread.
 */
public interface RequestHandler<C extends Card>
{
    /** {@link #prepare} result: send the request to a card. */
    int SUBMIT = -1;

    /**
     * Parses and validates the chain into {@code slot}.
     *
     * @return {@link #SUBMIT}, or the used length to complete with at once (a bad request that
     * was answered locally, its status already written).
     */
    int prepare(int slot, DescriptorChain chain);

    /** A hash to keep one flow (or sector neighbourhood) on one route. */
    int flowHash(int slot);

    /**
     * Whether the request in {@code slot}, which a card ended with {@code status}, may be replayed on
     * another card. Front queue thread. The slot matters where the request's own state can overrule
     * the status (scsi: a task the guest's TMF ended is answered, not replayed).
     */
    boolean isPathFailure(int slot, int status);

    /** Writes the device status for a finished request and returns the used length. */
    int complete(int slot, int status, int length);

    /** Fails a request no card could take (all paths down past the deadline): IOERR. Used length. */
    int fail(int slot);

    /**
     * The used elements of every request completed so far are now visible to the guest (used.idx
     * published). Front queue thread. Lets a handler order things after the guest can see them
     * (scsi: a task management response never overtakes the completions it affected).
     */
    default void onPublished()
    {
    }

    /** This handler as a push handler, or null when its requests are not started on a card. */
    default PushHandler<C> asPush()
    {
        return null;
    }

    /** This handler as a pull handler, or null when its requests are not filled by a card. */
    default PullHandler<C> asPull()
    {
        return null;
    }
}
