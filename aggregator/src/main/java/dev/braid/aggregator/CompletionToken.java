package dev.braid.aggregator;

/**
 * The opaque token a card carries for each request: {@code (guest queue, head, attempt)}.
 *
 * <p>Layout (64 bits): guest queue in bits 48..63, head id in bits 32..47, attempt in bits 0..31.
 * The attempt is what makes replay safe: a completion whose attempt is not the head's current one
 * comes from a zombie card or a superseded attempt, and is dropped.
 */
public final class CompletionToken
{
    private CompletionToken()
    {
    }

    public static long encode(final int guestQueue, final int head, final int attempt)
    {
        return (long)guestQueue << 48 | (long)(head & 0xFFFF) << 32 | (attempt & 0xFFFF_FFFFL);
    }

    public static int guestQueue(final long token)
    {
        return (int)(token >>> 48);
    }

    public static int head(final long token)
    {
        return (int)(token >>> 32) & 0xFFFF;
    }

    public static int attempt(final long token)
    {
        return (int)token;
    }
}
