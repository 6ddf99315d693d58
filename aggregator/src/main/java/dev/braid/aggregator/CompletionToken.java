package dev.braid.aggregator;

/**
 * The opaque token a card carries for each request: {@code (guest queue, head, attempt)}.
 *
 * <p>Layout (64 bits): guest queue in bits 48..63, head id in bits 32..47, the card's fence
 * generation at dispatch (low 16 bits) in bits 16..31, attempt (low 16 bits) in bits 0..15.
 * The attempt is what makes replay safe: a completion whose attempt is not the head's current one
 * comes from a zombie card or a superseded attempt, and is dropped. The generation lets a card
 * worker refuse a token dispatched before a fence (its attempt may already be replayed elsewhere)
 * even when the card has been unfenced since.
 */
public final class CompletionToken
{
    private CompletionToken()
    {
    }

    public static final int MAX_ATTEMPT = 0xFFFF;

    public static long encode(final int guestQueue, final int head, final int fenceGeneration, final int attempt)
    {
        return (long)guestQueue << 48 | (long)(head & 0xFFFF) << 32 | (long)(fenceGeneration & 0xFFFF) << 16 |
            (attempt & 0xFFFF);
    }

    public static int guestQueue(final long token)
    {
        return (int)(token >>> 48);
    }

    public static int head(final long token)
    {
        return (int)(token >>> 32) & 0xFFFF;
    }

    /** The attempt's low 16 bits. */
    public static int attempt(final long token)
    {
        return (int)token & 0xFFFF;
    }

    /** Whether the token carries {@code attempt} (compared on its low 16 bits). */
    public static boolean isAttempt(final long token, final int attempt)
    {
        return attempt(token) == (attempt & 0xFFFF);
    }

    /** The low 16 bits of the card's fence generation when the token was dispatched. */
    public static int fenceGeneration(final long token)
    {
        return (int)(token >>> 16) & 0xFFFF;
    }
}
