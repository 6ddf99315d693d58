package dev.braid.ha;

/**
 * What happens to requests while every card is down. Either they wait up to a deadline counted
 * from the moment the last usable card went (like dm-multipath {@code no_path_retry}) and then
 * fail with IOERR, or they fail at once. There is deliberately no "wait forever": a guest must
 * never hang silently.
 */
public final class AllDownPolicy
{
    public enum Mode
    {
        QUEUE_UNTIL_DEADLINE,
        FAIL_FAST
    }

    private static final AllDownPolicy FAIL_FAST = new AllDownPolicy(Mode.FAIL_FAST, 0);

    private final Mode mode;
    private final long deadlineNanos;

    private AllDownPolicy(final Mode mode, final long deadlineNanos)
    {
        this.mode = mode;
        this.deadlineNanos = deadlineNanos;
    }

    public static AllDownPolicy queueUntilDeadline(final long deadlineNanos)
    {
        if (deadlineNanos <= 0)
        {
            throw new IllegalArgumentException("all-down deadline must be > 0: " + deadlineNanos);
        }
        return new AllDownPolicy(Mode.QUEUE_UNTIL_DEADLINE, deadlineNanos);
    }

    public static AllDownPolicy failFast()
    {
        return FAIL_FAST;
    }

    public Mode mode()
    {
        return mode;
    }

    /** The wait of {@link Mode#QUEUE_UNTIL_DEADLINE}, 0 for fail-fast. */
    public long deadlineNanos()
    {
        return deadlineNanos;
    }

    /**
     * @param nowNanos   the current time.
     * @param sinceNanos when the last usable card went.
     * @return WAIT while {@code nowNanos - sinceNanos < deadline}, FAIL from the deadline on (and always for fail-fast).
     */
    public AllDownAction allDownAction(final long nowNanos, final long sinceNanos)
    {
        return mode == Mode.QUEUE_UNTIL_DEADLINE && nowNanos - sinceNanos < deadlineNanos ?
            AllDownAction.WAIT : AllDownAction.FAIL;
    }

    public String toString()
    {
        return mode == Mode.FAIL_FAST ? "FAIL_FAST" : "QUEUE_UNTIL_DEADLINE(" + deadlineNanos + "ns)";
    }
}
