package dev.braid.sim;

/**
 * The fault modes a simulated card can be put in, from a schedule or at random. One value at a
 * time; {@link #HEALTHY} is normal service.
 */
public enum CardFault
{
    /** Normal service. */
    HEALTHY,
    /** Dead: rejects new work, never completes pending work, link reported down. */
    FAIL_STOP,
    /** Link goes down (and later up); pending work fails with IO_ERROR. */
    LINK_DOWN,
    /** Accepts work, never completes it, link stays up: only a timeout can tell. */
    HANG,
    /** Serves at {@code slowFactor} times the normal latency. */
    SLOW,
    /** Fails requests with IO_ERROR for a while. */
    ERROR_BURST,
    /**
     * Declared dead but not quite: after being fenced it still delivers completions for old
     * requests, late. It honours the fence for guest memory (no DMA), so those completions carry
     * stale tokens only.
     */
    ZOMBIE;

    /** Whether a card in this fault reports its link up (FAIL_STOP and LINK_DOWN do not). */
    public boolean linkUp()
    {
        return this != FAIL_STOP && this != LINK_DOWN;
    }

    /** Whether a card in this fault makes progress on accepted work (HANG and FAIL_STOP do not). */
    public boolean progresses()
    {
        return this != HANG && this != FAIL_STOP;
    }
}
