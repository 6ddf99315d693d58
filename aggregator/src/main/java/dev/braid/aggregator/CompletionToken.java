package dev.braid.aggregator;

/**
 * The opaque token a card carries for each request: {@code (guest queue, head, fence generation,
 * attempt)}.
 *
 * <pre>
 *   63        52 51             36 35             20 19                 0
 *  +------------+-----------------+-----------------+-------------------+
 *  | guest queue|      head       | fence generation|      attempt      |
 *  |  12 bits   |     16 bits     |  low 16 bits    |   low 20 bits     |
 *  +------------+-----------------+-----------------+-------------------+
 * </pre>
 *
 * Guest queue: the front queue (or control channel: probes, TMF) the completion goes back to; at
 * most {@link #MAX_GUEST_QUEUES} of them. Head: the descriptor head, or the control slot. Fence generation: the card's generation when the token was dispatched, so a
 * card worker never starts a token from before a fence. Attempt: the head's attempt number.
 *
 * <p>The token's bits are not what keeps a late answer out: a fence closes the card's
 * {@link CompletionGate} for good, so nothing a fenced card reports is ever matched, however late
 * (see {@code docs/DESIGN.md}, "When a completion is trusted"). The attempt only tells a trusted
 * completion of a superseded attempt (a retried path error) from the current one; the generation
 * is compared as well, as a second check.
 */
public final class CompletionToken
{
    private CompletionToken()
    {
    }

    public static final int GUEST_QUEUE_BITS = 12;
    public static final int HEAD_BITS = 16;
    public static final int GENERATION_BITS = 16;
    public static final int ATTEMPT_BITS = 20;

    /** Guest queues plus control slots a token can name. */
    public static final int MAX_GUEST_QUEUES = 1 << GUEST_QUEUE_BITS;
    public static final int MAX_ATTEMPT = (1 << ATTEMPT_BITS) - 1;

    private static final int HEAD_SHIFT = GENERATION_BITS + ATTEMPT_BITS;
    private static final int QUEUE_SHIFT = HEAD_SHIFT + HEAD_BITS;
    private static final int HEAD_MASK = (1 << HEAD_BITS) - 1;
    private static final int GENERATION_MASK = (1 << GENERATION_BITS) - 1;

    public static long encode(final int guestQueue, final int head, final int fenceGeneration, final int attempt)
    {
        return (long)guestQueue << QUEUE_SHIFT | (long)(head & HEAD_MASK) << HEAD_SHIFT |
            (long)(fenceGeneration & GENERATION_MASK) << ATTEMPT_BITS | (attempt & MAX_ATTEMPT);
    }

    public static int guestQueue(final long token)
    {
        return (int)(token >>> QUEUE_SHIFT);
    }

    public static int head(final long token)
    {
        return (int)(token >>> HEAD_SHIFT) & HEAD_MASK;
    }

    /** The attempt's low {@link #ATTEMPT_BITS} bits. */
    public static int attempt(final long token)
    {
        return (int)token & MAX_ATTEMPT;
    }

    /** Whether the token carries {@code attempt} (compared on its low {@link #ATTEMPT_BITS} bits). */
    public static boolean isAttempt(final long token, final int attempt)
    {
        return attempt(token) == (attempt & MAX_ATTEMPT);
    }

    /** The low 16 bits of the card's fence generation when the token was dispatched. */
    public static int fenceGeneration(final long token)
    {
        return (int)(token >>> ATTEMPT_BITS) & GENERATION_MASK;
    }

    /** Whether the token was dispatched at {@code generation} (compared on its low 16 bits). */
    public static boolean isGeneration(final long token, final int generation)
    {
        return fenceGeneration(token) == (generation & GENERATION_MASK);
    }
}
