package dev.braid.ha;

import dev.braid.mapper.QueueMap;

/**
 * Turns the pool's usable cards into queue maps. Two kinds of change, kept apart because only the
 * second can be made order-preserving:
 *
 * <ul>
 *   <li>{@link #repair}: guest queues whose cards are no longer usable (or that have no route) are
 *       re-homed at once; no guest queue on a usable card moves. Published directly: the dead
 *       card's requests are replayed anyway.</li>
 *   <li>{@link #plan}: moves between two usable cards (rebalance after recovery or hot-add,
 *       active-passive failback). Each move is executed only after its guest queue is drained,
 *       so the order of its requests is kept.</li>
 * </ul>
 *
 * <p>Implementations are deterministic functions of their inputs and of their own small state
 * (failback requests); they allocate, which is fine off the hot path.
 */
public interface MapPolicy
{
    int guestQueueCount();

    /**
     * @return {@code current} itself when nothing changes, else a map with epoch {@code current.epoch() + 1}
     *         in which every guest queue is routed to usable cards only (no route at all when none is usable).
     */
    QueueMap repair(QueueMap current, CardPool pool, long nowNanos);

    /**
     * The moves between usable cards this policy wants now, based on {@code current}; empty when
     * none, or when {@code current} still needs {@link #repair}.
     */
    RebalancePlan plan(QueueMap current, CardPool pool, long nowNanos);

    /**
     * When {@link #plan} may give a different answer with no change to the pool (a delayed
     * failback coming due), or {@link Long#MAX_VALUE}.
     */
    default long reevaluateAtNanos(final QueueMap current, final CardPool pool, final long nowNanos)
    {
        return Long.MAX_VALUE;
    }
}
