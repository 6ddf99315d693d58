package dev.braid.ha;

/**
 * The health machines of all cards of a pool, indexed by card id, reporting every transition to
 * one listener. One thread drives it; no allocation except when a card is added.
 */
public final class HealthMonitor
{
    private final HealthConfig config;
    private final HealthListener listener;
    private final CardHealth[] cards;

    /** @param maxCards card ids must lie in {@code [0, maxCards)}. */
    public HealthMonitor(final HealthConfig config, final int maxCards, final HealthListener listener)
    {
        if (maxCards <= 0 || maxCards > 0x8000)
        {
            throw new IllegalArgumentException("maxCards must be in [1, 32768]: " + maxCards);
        }
        this.config = config.validate();
        this.listener = listener;
        this.cards = new CardHealth[maxCards];
    }

    public HealthConfig config()
    {
        return config;
    }

    public int maxCards()
    {
        return cards.length;
    }

    public CardHealth addCard(final int card, final HealthState initial, final long nowNanos)
    {
        checkId(card);
        if (cards[card] != null)
        {
            throw new IllegalArgumentException("card already monitored: " + card);
        }
        final CardHealth health = new CardHealth(card, config, listener, initial, nowNanos);
        cards[card] = health;
        return health;
    }

    public void removeCard(final int card)
    {
        checkId(card);
        cards[card] = null;
    }

    /** The card's machine, or null when the card is not monitored. */
    public CardHealth card(final int card)
    {
        return card >= 0 && card < cards.length ? cards[card] : null;
    }

    public boolean contains(final int card)
    {
        return card(card) != null;
    }

    public HealthState state(final int card)
    {
        return get(card).state();
    }

    public void onLinkChange(final int card, final boolean up, final long nowNanos)
    {
        get(card).onLinkChange(up, nowNanos);
    }

    public void onError(final int card, final long nowNanos)
    {
        get(card).onError(nowNanos);
    }

    public void onSuccess(final int card, final long nowNanos)
    {
        get(card).onSuccess(nowNanos);
    }

    public void onOldestInflightAge(final int card, final long ageNanos, final long nowNanos)
    {
        get(card).onOldestInflightAge(ageNanos, nowNanos);
    }

    /** See {@link CardHealth#onProbeResult(boolean, long, long)}. */
    public void onProbeResult(final int card, final boolean ok, final long latencyNanos, final long nowNanos)
    {
        get(card).onProbeResult(ok, latencyNanos, nowNanos);
    }

    public void onProbeResult(final int card, final boolean ok, final long nowNanos)
    {
        get(card).onProbeResult(ok, 0, nowNanos);
    }

    /**
     * Ticks every card in id order, so the order of reported transitions is deterministic. While no
     * card carries traffic, DOWN cards wait out only the base hold (see {@link CardHealth}).
     */
    public void tick(final long nowNanos)
    {
        boolean serving = false;
        for (final CardHealth health : cards)
        {
            serving |= health != null && health.state().carriesTraffic();
        }
        for (final CardHealth health : cards)
        {
            if (health != null)
            {
                health.tick(nowNanos, !serving);
            }
        }
    }

    private CardHealth get(final int card)
    {
        final CardHealth health = card(card);
        if (health == null)
        {
            throw new IllegalArgumentException("card not monitored: " + card);
        }
        return health;
    }

    private void checkId(final int card)
    {
        if (card < 0 || card >= cards.length)
        {
            throw new IllegalArgumentException("card id out of range [0, " + cards.length + "): " + card);
        }
    }
}
