package dev.braid.aggregator;

import dev.braid.virtio.card.Card;
import dev.braid.virtio.card.CompletionSink;
import dev.braid.virtio.queue.DescriptorChain;

/**
 * What one device type (blk, net tx, net rx, scsi) does with a request. One instance per front
 * queue; per-request state lives in arrays indexed by the head id ("slot"), preallocated.
 *
 * <p>{@link #prepare}, {@link #complete} and {@link #fail} run on the front queue's thread;
 * {@link #submit} and {@link #receive} on the card worker's thread, after the token hand-off
 * through a ring (which orders the slot's contents before the worker reads them).
 */
public interface RequestHandler
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

    /** Starts the request on a card; false when the card queue is full. Card worker thread. */
    boolean submit(Card card, int cardQueue, int slot, long token, CompletionSink sink);

    /** Whether the request is a pull (net rx): the card worker holds it until a frame arrives. */
    boolean isPull();

    /**
     * For a pull request: fills the slot's buffer from the card. Card worker thread.
     *
     * @return the used length, 0 when nothing is waiting, -1 when a frame was dropped.
     */
    int receive(Card card, int cardQueue, int slot);

    /** Whether a request that ended with {@code status} may be replayed on another card. */
    boolean isPathFailure(int status);

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
}
