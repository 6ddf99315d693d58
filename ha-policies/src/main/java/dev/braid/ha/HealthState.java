package dev.braid.ha;

/**
 * Where a card stands in the health cycle UP → SUSPECT → DOWN → PROBING → UP.
 *
 * <p>Usability rule (what {@link CardPool#isUsable(int)} and every {@link MapPolicy} follow): UP and
 * SUSPECT carry guest queues. SUSPECT is "still usable": a few errors do not move queues, which is
 * the first half of the hysteresis. DOWN and PROBING carry nothing: PROBING is "not yet usable"
 * until enough consecutive probes succeed, which is the second half.
 */
public enum HealthState
{
    UP,
    SUSPECT,
    DOWN,
    PROBING;

    private static final HealthState[] VALUES = values();

    /** Whether a card in this state may carry guest queues. */
    public boolean carriesTraffic()
    {
        return this == UP || this == SUSPECT;
    }

    static HealthState of(final int ordinal)
    {
        return VALUES[ordinal];
    }
}
