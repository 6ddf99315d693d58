package dev.braid.ha;

/**
 * The health state machine of one card: UP → SUSPECT → DOWN → PROBING → UP.
 *
 * <ul>
 *   <li>Link down: DOWN at once from any state (a signalled failure).</li>
 *   <li>Oldest in-flight request older than the completion timeout: UP/SUSPECT → DOWN (a silent failure).</li>
 *   <li>Errors in the sliding window: UP → SUSPECT at {@code suspectAfterErrors}, → DOWN at
 *       {@code downAfterErrors}. SUSPECT → UP once the window holds no error and a request succeeded
 *       since the last one.</li>
 *   <li>DOWN → PROBING when the link is up and the damped hold has passed; PROBING → UP after
 *       {@code upAfterProbes} consecutive good probes; a failed probe → DOWN with a doubled hold.
 *       A probe answered no sooner than the completion timeout is a failed probe: a card that is
 *       too slow to serve must not pass its probes (see {@link #onProbeResult(boolean, long, long)}).</li>
 * </ul>
 *
 * <p>Hold-down back-off: every fall to DOWN (link, timeout, errors or a failed probe) while the
 * card has not yet served healthily for {@code stableNanos} doubles the next hold, up to
 * {@code maxDownNanos} (see {@link HealthConfig}). "Served healthily" means UP without a break:
 * the stable clock starts when the card becomes UP (from probes, or recovering from SUSPECT) and
 * stops at SUSPECT; a card that lingers SUSPECT and then fails is not forgiven. So a card that
 * keeps failing soon after it rejoins is held down ever longer rather than flapping the map.
 * The back-off damps the map while other cards serve: while none does, a DOWN card's hold is the
 * base hold ({@link #tick(long, boolean)}), since a card that passes its probes then is the guest's
 * only way out of the all-down deadline (a healthy card held out by its flaps fails guest I/O).
 *
 * <p>Errors, successes and ages reported while DOWN or PROBING are ignored: the card carries no
 * traffic then, so they are late echoes of the failure; probes alone decide. Time comes only from
 * the {@code nowNanos} arguments; a time earlier than one already seen is taken as the latest seen.
 * Not thread-safe: one thread drives it. No allocation after construction.
 */
public final class CardHealth
{
    private final int card;
    private final HealthConfig config;
    private final HealthListener listener;
    private final long[] errorTimes;

    private HealthState state;
    private long lastNowNanos;
    private long stateSinceNanos;
    private long servingSinceNanos;
    private long holdNanos;
    private long nextProbeAtNanos;
    private int errorCount;
    private int errorHead;
    private long lastErrorNanos;
    private boolean successSinceError;
    private boolean linkUp = true;
    private int goodProbes;
    private int flaps;

    /**
     * @param initial UP for a card trusted at start, PROBING for one that must prove itself first,
     *                DOWN for one known bad.
     */
    public CardHealth(
        final int card, final HealthConfig config, final HealthListener listener, final HealthState initial, final long nowNanos)
    {
        if (initial == HealthState.SUSPECT)
        {
            throw new IllegalArgumentException("a card cannot start SUSPECT");
        }
        this.card = card;
        this.config = config.validate();
        this.listener = listener;
        this.errorTimes = new long[config.downAfterErrors()];
        this.state = initial;
        this.lastNowNanos = nowNanos;
        this.stateSinceNanos = nowNanos;
        this.servingSinceNanos = nowNanos;
        this.holdNanos = config.holdNanos(0);
        this.nextProbeAtNanos = nowNanos;
    }

    public int card()
    {
        return card;
    }

    public HealthState state()
    {
        return state;
    }

    public long stateSinceNanos()
    {
        return stateSinceNanos;
    }

    /** Failures since the card last stayed UP (healthy) for {@code stableNanos}; drives the damping. */
    public int flaps()
    {
        return flaps;
    }

    /** The hold of the current (or next) DOWN period. */
    public long holdNanos()
    {
        return holdNanos;
    }

    public boolean linkUp()
    {
        return linkUp;
    }

    /** Errors counted inside the window ending at {@code nowNanos}. */
    public int errorsInWindow(final long nowNanos)
    {
        final long now = Math.max(nowNanos, lastNowNanos);
        int n = 0;
        for (int i = 0; i < errorCount; i++)
        {
            if (now - errorTimes[i] < config.errorWindowNanos())
            {
                n++;
            }
        }
        return n;
    }

    public void onLinkChange(final boolean up, final long nowNanos)
    {
        final long now = advance(nowNanos);
        linkUp = up;
        if (!up && state != HealthState.DOWN)
        {
            enterDown(now, TransitionReason.LINK_DOWN);
        }
    }

    public void onError(final long nowNanos)
    {
        final long now = advance(nowNanos);
        if (!state.carriesTraffic())
        {
            return;
        }
        errorTimes[errorHead] = now;
        errorHead = errorHead + 1 == errorTimes.length ? 0 : errorHead + 1;
        errorCount = Math.min(errorCount + 1, errorTimes.length);
        lastErrorNanos = now;
        successSinceError = false;

        final int errors = errorsInWindow(now);
        if (errors >= config.downAfterErrors())
        {
            enterDown(now, TransitionReason.ERRORS);
        }
        else if (errors >= config.suspectAfterErrors() && state == HealthState.UP)
        {
            transition(HealthState.SUSPECT, now, TransitionReason.ERRORS);
        }
    }

    public void onSuccess(final long nowNanos)
    {
        final long now = advance(nowNanos);
        if (state.carriesTraffic())
        {
            successSinceError = true;
            maybeRecover(now);
        }
    }

    /** The age of the oldest request still in flight on this card (0 when none). */
    public void onOldestInflightAge(final long ageNanos, final long nowNanos)
    {
        final long now = advance(nowNanos);
        if (state.carriesTraffic() && ageNanos >= config.completionTimeoutNanos())
        {
            enterDown(now, TransitionReason.TIMEOUT);
        }
    }

    public void onProbeResult(final boolean ok, final long nowNanos)
    {
        onProbeResult(ok, 0, nowNanos);
    }

    /**
     * A probe's answer and how long it took. A probe that took the completion timeout or longer
     * fails whatever it answered: a request that slow would have taken the card DOWN, so a probe
     * that slow must not bring it UP (else a card exactly as slow as the timeout flaps for ever).
     *
     * @param latencyNanos from sending the probe to its answer; 0 when unknown.
     */
    public void onProbeResult(final boolean ok, final long latencyNanos, final long nowNanos)
    {
        final long now = advance(nowNanos);
        if (state != HealthState.PROBING)
        {
            return; // a stale answer to a probe of an earlier PROBING period
        }
        if (!ok || latencyNanos >= config.completionTimeoutNanos())
        {
            enterDown(now, TransitionReason.PROBE_FAILED);
        }
        else if (++goodProbes >= config.upAfterProbes())
        {
            servingSinceNanos = now;
            transition(HealthState.UP, now, TransitionReason.PROBES_OK);
        }
    }

    /** Advances timers: DOWN hold, SUSPECT recovery, forgiveness of old flaps. */
    public void tick(final long nowNanos)
    {
        tick(nowNanos, false);
    }

    /**
     * As {@link #tick(long)}; {@code noCardServing}: no card of the device carries traffic, so a DOWN
     * card waits out only the base hold, however often it flapped (its flap count stays).
     */
    public void tick(final long nowNanos, final boolean noCardServing)
    {
        final long now = advance(nowNanos);
        switch (state)
        {
            case DOWN:
                final long hold = noCardServing ? Math.min(holdNanos, config.baseDownNanos()) : holdNanos;
                if (linkUp && now - stateSinceNanos >= hold)
                {
                    goodProbes = 0;
                    nextProbeAtNanos = now;
                    transition(HealthState.PROBING, now, TransitionReason.HOLD_EXPIRED);
                }
                break;
            case SUSPECT:
                maybeRecover(now);
                break;
            case UP:
                forgiveIfStable(now);
                break;
            default:
                break;
        }
    }

    /** Whether a PROBING card is due another probe; see {@link #onProbeSent(long)}. */
    public boolean probeDue(final long nowNanos)
    {
        return state == HealthState.PROBING && Math.max(nowNanos, lastNowNanos) >= nextProbeAtNanos;
    }

    /** Records that a probe went out, so the next one is due a probe interval later. */
    public void onProbeSent(final long nowNanos)
    {
        nextProbeAtNanos = advance(nowNanos) + config.probeIntervalNanos();
    }

    private void maybeRecover(final long now)
    {
        if (state == HealthState.SUSPECT && successSinceError && now - lastErrorNanos >= config.errorWindowNanos())
        {
            servingSinceNanos = now; // the stable clock restarts: SUSPECT was not healthy service
            transition(HealthState.UP, now, TransitionReason.RECOVERED);
        }
    }

    private void forgiveIfStable(final long now)
    {
        if (flaps != 0 && now - servingSinceNanos >= config.stableNanos())
        {
            flaps = 0;
        }
    }

    private void enterDown(final long now, final TransitionReason reason)
    {
        if (state == HealthState.UP)
        {
            forgiveIfStable(now);
        }
        holdNanos = config.holdNanos(flaps);
        if (flaps < Integer.MAX_VALUE)
        {
            flaps++;
        }
        errorCount = 0;
        errorHead = 0;
        goodProbes = 0;
        transition(HealthState.DOWN, now, reason);
    }

    private void transition(final HealthState to, final long now, final TransitionReason reason)
    {
        final HealthState from = state;
        state = to;
        stateSinceNanos = now;
        listener.onTransition(card, from, to, now, reason);
    }

    private long advance(final long nowNanos)
    {
        if (nowNanos > lastNowNanos)
        {
            lastNowNanos = nowNanos;
        }
        return lastNowNanos;
    }

    public String toString()
    {
        return "CardHealth{card=" + card + ", state=" + state + ", since=" + stateSinceNanos + ", flaps=" + flaps +
            ", holdNanos=" + holdNanos + ", linkUp=" + linkUp + '}';
    }
}
