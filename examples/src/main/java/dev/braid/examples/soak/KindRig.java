package dev.braid.examples.soak;

import dev.braid.aggregator.AggregatedDevice;
import dev.braid.sim.FaultTarget;
import dev.braid.sim.TimerSource;
import dev.braid.virtio.card.Card;
import org.agrona.concurrent.Agent;

import java.util.List;
import java.util.function.IntToLongFunction;
import java.util.function.ToLongFunction;
import java.util.Map;

/**
 * A built device of one kind with its simulated cards and verifying guests: what the generic
 * {@link SoakRig} runs, faults and checks. Counters are summed over guest queues; they are exact
 * once the guests have stopped, and approximate (but safe to read) while they run.
 */
public interface KindRig
{
    AggregatedDevice device();

    /** One agent per guest queue; they post, reap and verify. */
    List<Agent> guests();

    /** The guests' queues, in guest-queue order. */
    List<GuestQueue> guestQueues();

    /** The simulated cards as fault targets; index = card index in the device. */
    List<FaultTarget> faultTargets();

    /** Cards and other sources of future work, for the deterministic scheduler. */
    List<TimerSource> timerSources();

    /** Builds one more simulated card and hot-adds it; returns its index. */
    int hotAddCard();

    /** Requests posted and not yet completed. After a quiesce: lost. */
    long outstanding();

    /** Completions for requests the guest did not post or already had back. */
    long duplicates();

    /** Data that did not verify (blk: a read that is not the last completed write). */
    long corrupt();

    /** Completions with an error status. */
    long errors();

    /** Request or frame units the guests checked (reads verified, frames matched). */
    long checked();

    /** Requests the card itself still holds (card-side outstanding). */
    long cardInFlight(int card);

    /** Requests the simulated card completed. */
    long cardCompleted(int card);

    /** One-line kind-specific counters for the report (reads/writes, frames...). */
    String detail();

    /** Every device-side agent to run (front queues, card workers, controller, and e.g. a scsi control queue). */
    default List<Agent> deviceAgents()
    {
        return device().agents();
    }

    /**
     * Whether guest queue {@code guestQueue} must hold nothing once quiesced. Not so for a net rx
     * queue: the device keeps the guest's rx buffers until frames arrive, by design.
     */
    default boolean drains(final int guestQueue)
    {
        return true;
    }

    /**
     * Whether this rig checks per-guest-queue order (queue-affine only: a spray promises no order
     * across cards). When false, {@link #outOfOrder()} means nothing.
     */
    default boolean orderChecked()
    {
        return false;
    }

    /** First write submissions that reached a card after a later-posted write of the same guest queue. */
    default long outOfOrder()
    {
        return 0;
    }

    /** Late first submissions of writes a fence may have stranded (replayed after later ones): allowed. */
    default long orderExcused()
    {
        return 0;
    }

    /** First write submissions the order check looked at. */
    default long orderedWrites()
    {
        return 0;
    }

    /** The reference model fed by the guests' queues, or null when this kind has none. */
    default GuestModel model()
    {
        return null;
    }

    /** Releases what the rig opened (native cards: fds, rings, connections); after the run. */
    default void close()
    {
    }

    /** Kind-specific counters for the report and the JSON (snake_case names), in a stable order. */
    default Map<String, Long> extra()
    {
        return Map.of();
    }

    /** The sum of {@code count} over {@code items}: a kind's totals over its guests. */
    static <T> long sum(final List<T> items, final ToLongFunction<T> count)
    {
        long n = 0;
        for (final T item : items)
        {
            n += count.applyAsLong(item);
        }
        return n;
    }

    /** The requests a simulated card holds over all its queues; 0 for a card that is gone. */
    static long inFlight(final Card card, final IntToLongFunction inFlight)
    {
        long n = 0;
        for (int q = 0; null != card && q < card.queueCount(); q++)
        {
            n += inFlight.applyAsLong(q);
        }
        return n;
    }
}
