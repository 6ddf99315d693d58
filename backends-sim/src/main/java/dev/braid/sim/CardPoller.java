package dev.braid.sim;

import dev.braid.virtio.card.Card;
import org.agrona.concurrent.Agent;

/**
 * The simplest card worker: polls every queue of one card. For tests and soak runs that drive
 * cards without an aggregator; also a {@link TimerSource} when the card is one.
 */
public final class CardPoller implements Agent, TimerSource
{
    private final Card card;
    private final String roleName;

    public CardPoller(final Card card)
    {
        this.card = card;
        this.roleName = "poller-" + card.name();
    }

    public int doWork()
    {
        int work = 0;
        for (int q = 0, n = card.queueCount(); q < n; q++)
        {
            work += card.poll(q);
        }
        return work;
    }

    public String roleName()
    {
        return roleName;
    }

    public long nextEventNanos()
    {
        return card instanceof TimerSource ? ((TimerSource)card).nextEventNanos() : NONE;
    }
}
