package dev.braid.aggregator;

/**
 * What a {@link FrontQueue} still owes the guest, one entry per descriptor head, and the FIFO of
 * heads waiting for a route or ring space. Owned by the front queue's thread; preallocated, so
 * nothing here allocates after construction.
 *
 * <p>An entry is FREE, PENDING (popped, waiting to be dispatched) or SUBMITTED (on a card, with an
 * attempt number and the card's fence generation at dispatch). Attempt numbers keep counting across
 * reuses of a head, so a late completion from an earlier use of the head (a zombie's, a cancelled
 * one) can never match a new request.
 *
 * <p>Layout: per head, 32 bytes of times in one {@code long[]} and 32 bytes of fields in one
 * {@code int[]} (plain arrays: the JIT drops their bounds checks; a completion touches two lines):
 * <pre>
 *  times  0  pop nanos         when the guest's request was popped
 *         1  submit nanos      when the current attempt was dispatched
 *         2  trouble since     first path error, fence or no-route; {@link #NO_TROUBLE} until then
 *         3  retry at          earliest time a retry may go back to the card that failed it
 *  fields 0  attempt           current attempt (counts across reuses of the head)
 *         1  first attempt     attempt of the request's first dispatch
 *         2  route             packed card/queue route of the current attempt
 *         3  fence generation  the card's generation when the current attempt was dispatched
 *         4  avoid card        card to avoid on the next dispatch, or {@link #NO_CARD}
 *         5  replayed from     card a fence forced this request off, or {@link #NO_CARD}
 *         6  state             FREE, PENDING or SUBMITTED
 * </pre>
 */
final class InFlightTable
{
    static final int FREE = 0;
    static final int PENDING = 1;
    static final int SUBMITTED = 2;

    static final int NO_CARD = -1;
    static final long NO_TROUBLE = Long.MIN_VALUE;

    /** Largest table: a completion token's head field. */
    static final int MAX_ENTRIES = 1 << CompletionToken.HEAD_BITS;

    private static final int POP_NANOS = 0;
    private static final int SUBMIT_NANOS = 1;
    private static final int TROUBLE_SINCE = 2;
    private static final int RETRY_AT = 3;
    private static final int TIMES_SHIFT = 2;
    private static final int ATTEMPT = 0;
    private static final int FIRST_ATTEMPT = 1;
    private static final int ROUTE = 2;
    private static final int FENCE_GENERATION = 3;
    private static final int AVOID_CARD = 4;
    private static final int REPLAYED_FROM = 5;
    private static final int STATE = 6;
    private static final int FIELDS_SHIFT = 3;

    private final int entries;
    private final long[] times;
    private final int[] fields;
    private final int[] pending;
    private int pendingHead;
    private int pendingCount;

    InFlightTable(final int entries)
    {
        if (entries < 1 || entries > MAX_ENTRIES)
        {
            throw new IllegalArgumentException("in-flight entries must be 1.." + MAX_ENTRIES + ": " + entries);
        }
        this.entries = entries;
        times = new long[entries << TIMES_SHIFT];
        fields = new int[entries << FIELDS_SHIFT];
        pending = new int[entries];
    }

    int entries()
    {
        return entries;
    }

    private static int t(final int head, final int field)
    {
        return (head << TIMES_SHIFT) + field;
    }

    private static int f(final int head, final int field)
    {
        return (head << FIELDS_SHIFT) + field;
    }

    // ---------------------------------------------------------------- lifecycle

    int state(final int head)
    {
        return fields[f(head, STATE)];
    }

    boolean isFree(final int head)
    {
        return state(head) == FREE;
    }

    boolean isSubmitted(final int head)
    {
        return state(head) == SUBMITTED;
    }

    /**
     * Takes a FREE head for a request the guest just made available: PENDING, not yet queued, with
     * a fresh attempt and no trouble.
     */
    void begin(final int head, final long nowNanos)
    {
        final int attempt = attempt(head) + 1;
        fields[f(head, STATE)] = PENDING;
        times[t(head, POP_NANOS)] = nowNanos;
        fields[f(head, ATTEMPT)] = attempt;
        fields[f(head, FIRST_ATTEMPT)] = attempt;
        fields[f(head, AVOID_CARD)] = NO_CARD;
        fields[f(head, REPLAYED_FROM)] = NO_CARD;
        times[t(head, TROUBLE_SINCE)] = NO_TROUBLE;
        times[t(head, RETRY_AT)] = nowNanos;
    }

    /** The head's current attempt went to {@code route} on a card at {@code fenceGeneration}. */
    void submitted(final int head, final int route, final int fenceGeneration, final long nowNanos)
    {
        fields[f(head, STATE)] = SUBMITTED;
        fields[f(head, ROUTE)] = route;
        fields[f(head, FENCE_GENERATION)] = fenceGeneration;
        times[t(head, SUBMIT_NANOS)] = nowNanos;
    }

    /** The request was completed to the guest. */
    void free(final int head)
    {
        fields[f(head, STATE)] = FREE;
    }

    /**
     * Whether a completion carrying {@code token} is the head's current attempt: SUBMITTED, same
     * attempt and same fence generation. Anything else is stale.
     */
    boolean isCurrent(final int head, final long token)
    {
        return head < entries && state(head) == SUBMITTED &&
            CompletionToken.isAttempt(token, attempt(head)) &&
            CompletionToken.isGeneration(token, fenceGeneration(head));
    }

    /** Supersedes the current attempt (a replay); returns how many attempts this request has used. */
    int nextAttempt(final int head)
    {
        final int attempt = attempt(head) + 1;
        fields[f(head, ATTEMPT)] = attempt;
        return attempt - fields[f(head, FIRST_ATTEMPT)];
    }

    /** Records the first trouble of the request at {@code nowNanos}; later trouble keeps the first. */
    void markTrouble(final int head, final long nowNanos)
    {
        if (troubleSince(head) == NO_TROUBLE)
        {
            times[t(head, TROUBLE_SINCE)] = nowNanos;
        }
    }

    // ---------------------------------------------------------------- fields

    int attempt(final int head)
    {
        return fields[f(head, ATTEMPT)];
    }

    int route(final int head)
    {
        return fields[f(head, ROUTE)];
    }

    int fenceGeneration(final int head)
    {
        return fields[f(head, FENCE_GENERATION)];
    }

    long popNanos(final int head)
    {
        return times[t(head, POP_NANOS)];
    }

    long submitNanos(final int head)
    {
        return times[t(head, SUBMIT_NANOS)];
    }

    long troubleSince(final int head)
    {
        return times[t(head, TROUBLE_SINCE)];
    }

    /** The earliest time the head may be dispatched to its avoid card again. */
    long retryAt(final int head)
    {
        return times[t(head, RETRY_AT)];
    }

    void retryAt(final int head, final long nanos)
    {
        times[t(head, RETRY_AT)] = nanos;
    }

    int avoidCard(final int head)
    {
        return fields[f(head, AVOID_CARD)];
    }

    void avoidCard(final int head, final int card)
    {
        fields[f(head, AVOID_CARD)] = card;
    }

    int replayedFrom(final int head)
    {
        return fields[f(head, REPLAYED_FROM)];
    }

    void replayedFrom(final int head, final int card)
    {
        fields[f(head, REPLAYED_FROM)] = card;
    }

    // ---------------------------------------------------------------- pending FIFO

    /** Queues the head (PENDING) behind the others waiting for dispatch. At most one place per head. */
    void enqueuePending(final int head)
    {
        fields[f(head, STATE)] = PENDING;
        int tail = pendingHead + pendingCount;
        if (tail >= entries)
        {
            tail -= entries;
        }
        pending[tail] = head;
        pendingCount++;
    }

    int pendingCount()
    {
        return pendingCount;
    }

    /** The oldest waiting head; only when {@link #pendingCount()} is not 0. */
    int peekPending()
    {
        return pending[pendingHead];
    }

    void popPending()
    {
        pendingHead = pendingHead + 1 == entries ? 0 : pendingHead + 1;
        pendingCount--;
    }
}
