package dev.braid.ha;

import dev.braid.mapper.DispatchMode;
import dev.braid.mapper.DispatchPolicy;
import dev.braid.mapper.SelectorKind;

/**
 * How a device's cards share its guest queues, said once: the value yields both the map policy
 * (which routes each guest queue has) and the dispatch policy (which route a request takes), so
 * the two cannot disagree.
 *
 * <pre>
 * Aggregation.activeActive(SelectorKind.LEAST_OUTSTANDING)  // spray every request, least outstanding first
 * Aggregation.activeActive(SelectorKind.QUEUE_AFFINE)       // each guest queue on one card, spread evenly
 * Aggregation.activePassive(Failback.delayed(2_000_000_000L))
 * </pre>
 *
 * Immutable. External form: {@code aa:<selector>} or {@code ap:<failback>} ({@link #toString}).
 */
public final class Aggregation
{
    private final boolean activePassive;
    private final DispatchPolicy dispatch;
    private final Failback failback;

    private Aggregation(final boolean activePassive, final DispatchPolicy dispatch, final Failback failback)
    {
        this.activePassive = activePassive;
        this.dispatch = dispatch;
        this.failback = failback;
    }

    /**
     * Every usable card serves. {@link SelectorKind#QUEUE_AFFINE} gives each guest queue one card
     * (per-queue order kept); any other selector sprays each guest queue's requests over all cards.
     */
    public static Aggregation activeActive(final SelectorKind selector)
    {
        if (selector == null)
        {
            throw new IllegalArgumentException("active-active needs a selector: null");
        }
        return new Aggregation(false, selector == SelectorKind.QUEUE_AFFINE ?
            DispatchPolicy.queueAffine() : DispatchPolicy.requestSpray(selector), null);
    }

    /** One card serves every guest queue; standbys take over in priority order and fail back per {@code failback}. */
    public static Aggregation activePassive(final Failback failback)
    {
        if (failback == null)
        {
            throw new IllegalArgumentException("active-passive needs a failback mode: null");
        }
        return new Aggregation(true, DispatchPolicy.queueAffine(), failback);
    }

    public boolean isActivePassive()
    {
        return activePassive;
    }

    /** Queue-affine or request-spray: what both policies follow. */
    public DispatchMode mode()
    {
        return dispatch.mode();
    }

    public SelectorKind selector()
    {
        return dispatch.selectorKind();
    }

    /** The failback of active-passive, null for active-active. */
    public Failback failback()
    {
        return failback;
    }

    /** The front queues' dispatch policy. */
    public DispatchPolicy dispatchPolicy()
    {
        return dispatch;
    }

    /** A new map policy for {@code guestQueues} guest queues (map policies hold state: one per device). */
    public MapPolicy newMapPolicy(final int guestQueues)
    {
        return activePassive ?
            new ActivePassivePolicy(guestQueues, failback) : new ActiveActivePolicy(guestQueues, dispatch.mode());
    }

    public boolean equals(final Object o)
    {
        if (!(o instanceof Aggregation))
        {
            return false;
        }
        final Aggregation other = (Aggregation)o;
        return other.activePassive == activePassive && other.dispatch.equals(dispatch) &&
            (activePassive ? other.failback.mode() == failback.mode() &&
            other.failback.delayNanos() == failback.delayNanos() : true);
    }

    public int hashCode()
    {
        return dispatch.hashCode() * 31 + (activePassive ? failback.mode().hashCode() : 0);
    }

    public String toString()
    {
        return activePassive ? "ap:" + failback : "aa:" + dispatch.selectorKind().externalName();
    }
}
