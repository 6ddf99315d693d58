package dev.braid.ha;

/**
 * Why a card changed state. The first group explains health transitions; the second group names
 * pool and map events, which appear only in the {@link FailoverLog}.
 */
public enum TransitionReason
{
    /** The link to the card was reported down: a signalled failure. */
    LINK_DOWN,
    /** Enough errors inside the error window. */
    ERRORS,
    /** The oldest in-flight request got older than the completion timeout: a silent failure. */
    TIMEOUT,
    /** A SUSPECT card saw a clean error window and a success since its last error. */
    RECOVERED,
    /** A DOWN card with its link up served its (damped) hold time and may be probed. */
    HOLD_EXPIRED,
    /** Enough consecutive probes succeeded. */
    PROBES_OK,
    /** A probe failed while PROBING. */
    PROBE_FAILED,

    /** A card joined the pool (log only). */
    HOT_ADD,
    /** A card left the map and is being drained (log only). */
    REMOVING,
    /** A drained card was dropped from the pool (log only). */
    REMOVED,
    /** One guest queue moved between usable cards after its drain (log only). */
    REBALANCE_MOVE;

    private static final TransitionReason[] VALUES = values();

    static TransitionReason of(final int ordinal)
    {
        return VALUES[ordinal];
    }
}
