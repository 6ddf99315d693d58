package dev.braid.ha;

import java.util.Arrays;

/**
 * The cards a policy may route to: for each card its queue count, health, membership and the time
 * it last became UP, in priority order (first added = highest priority, as active-passive wants).
 *
 * <p>A card is usable when it is ACTIVE and its health carries traffic (UP or SUSPECT, see
 * {@link HealthState}). Mutated by one thread (the controller, or a test); policies only read it.
 */
public final class CardPool
{
    /** {@link #upSinceNanos(int)} of a card that is not UP. */
    public static final long NOT_UP = Long.MIN_VALUE;

    private final int[] order;
    private final int[] queueCounts;
    private final HealthState[] health;
    private final Membership[] membership;
    private final long[] upSince;
    private int size;

    /** @param maxCards card ids must lie in {@code [0, maxCards)}. */
    public CardPool(final int maxCards)
    {
        if (maxCards <= 0 || maxCards > 0x8000)
        {
            throw new IllegalArgumentException("maxCards must be in [1, 32768]: " + maxCards);
        }
        order = new int[maxCards];
        queueCounts = new int[maxCards];
        health = new HealthState[maxCards];
        membership = new Membership[maxCards];
        upSince = new long[maxCards];
        Arrays.fill(upSince, NOT_UP);
    }

    public int maxCards()
    {
        return order.length;
    }

    /** Adds a card at the lowest priority, UP since {@code nowNanos}. */
    public CardPool add(final int card, final int queueCount, final long nowNanos)
    {
        return add(card, queueCount, HealthState.UP, nowNanos);
    }

    /** Adds a card at the lowest priority. */
    public CardPool add(final int card, final int queueCount, final HealthState state, final long nowNanos)
    {
        if (card < 0 || card >= order.length)
        {
            throw new IllegalArgumentException("card id out of range [0, " + order.length + "): " + card);
        }
        if (queueCount <= 0 || queueCount > 0x10000)
        {
            throw new IllegalArgumentException("queue count must be in [1, 65536]: card=" + card + " count=" + queueCount);
        }
        if (contains(card))
        {
            throw new IllegalArgumentException("card already in pool: " + card);
        }
        order[size++] = card;
        queueCounts[card] = queueCount;
        membership[card] = Membership.ACTIVE;
        health[card] = null;
        setHealth(card, state, nowNanos);
        return this;
    }

    /** Takes the card out of every new map; it stays until {@link #remove(int)}. */
    public void markRemoving(final int card)
    {
        check(card);
        membership[card] = Membership.REMOVING;
    }

    public void remove(final int card)
    {
        check(card);
        final int i = priorityOf(card);
        System.arraycopy(order, i + 1, order, i, size - i - 1);
        size--;
        membership[card] = null;
        health[card] = null;
        queueCounts[card] = 0;
        upSince[card] = NOT_UP;
    }

    public void setHealth(final int card, final HealthState state, final long nowNanos)
    {
        check(card);
        if (state == HealthState.UP && health[card] != HealthState.UP)
        {
            upSince[card] = nowNanos;
        }
        else if (state != HealthState.UP)
        {
            upSince[card] = NOT_UP;
        }
        health[card] = state;
    }

    public boolean contains(final int card)
    {
        return card >= 0 && card < order.length && membership[card] != null;
    }

    /** Cards in the pool, REMOVING ones included. */
    public int size()
    {
        return size;
    }

    /** The card of priority {@code index}: 0 is the highest. */
    public int cardAt(final int index)
    {
        if (index < 0 || index >= size)
        {
            throw new IndexOutOfBoundsException("priority index " + index + " of " + size);
        }
        return order[index];
    }

    /** The priority index of a card (0 highest), or -1 when absent. */
    public int priorityOf(final int card)
    {
        for (int i = 0; i < size; i++)
        {
            if (order[i] == card)
            {
                return i;
            }
        }
        return -1;
    }

    public int queueCount(final int card)
    {
        check(card);
        return queueCounts[card];
    }

    public HealthState health(final int card)
    {
        check(card);
        return health[card];
    }

    public Membership membership(final int card)
    {
        check(card);
        return membership[card];
    }

    /** When the card last entered UP (SUSPECT interrupts it), or {@link #NOT_UP}. */
    public long upSinceNanos(final int card)
    {
        check(card);
        return upSince[card];
    }

    /** ACTIVE and UP or SUSPECT; false for ids not in the pool. */
    public boolean isUsable(final int card)
    {
        return contains(card) && membership[card] == Membership.ACTIVE && health[card].carriesTraffic();
    }

    public int usableCount()
    {
        int n = 0;
        for (int i = 0; i < size; i++)
        {
            if (isUsable(order[i]))
            {
                n++;
            }
        }
        return n;
    }

    private void check(final int card)
    {
        if (!contains(card))
        {
            throw new IllegalArgumentException("card not in pool: " + card);
        }
    }

    public String toString()
    {
        final StringBuilder sb = new StringBuilder("CardPool{");
        for (int i = 0; i < size; i++)
        {
            final int c = order[i];
            sb.append(i == 0 ? "" : ", ").append('c').append(c).append(':').append(queueCounts[c]).append('q')
                .append(' ').append(health[c]).append(membership[c] == Membership.REMOVING ? " REMOVING" : "");
        }
        return sb.append('}').toString();
    }
}
