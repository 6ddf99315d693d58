package dev.braid.aggregator;

import org.agrona.concurrent.UnsafeBuffer;

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
 * <p>Layout: one 64-byte entry per head (one cache line, so a completion touches one line):
 * <pre>
 *   0  pop nanos          (long)   when the guest's request was popped
 *   8  submit nanos       (long)   when the current attempt was dispatched
 *  16  trouble since      (long)   first path error, fence or no-route; {@link #NO_TROUBLE} until then
 *  24  attempt            (int)    current attempt (counts across reuses of the head)
 *  28  first attempt      (int)    attempt of the request's first dispatch
 *  32  route              (int)    packed card/queue route of the current attempt
 *  36  fence generation   (int)    the card's generation when the current attempt was dispatched
 *  40  avoid card         (int)    card to avoid on the next dispatch, or {@link #NO_CARD}
 *  44  replayed from      (int)    card a fence forced this request off, or {@link #NO_CARD}
 *  48  state              (int)    FREE, PENDING or SUBMITTED
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

    static final int POP_NANOS_OFFSET = 0;
    static final int SUBMIT_NANOS_OFFSET = 8;
    static final int TROUBLE_SINCE_OFFSET = 16;
    static final int ATTEMPT_OFFSET = 24;
    static final int FIRST_ATTEMPT_OFFSET = 28;
    static final int ROUTE_OFFSET = 32;
    static final int FENCE_GENERATION_OFFSET = 36;
    static final int AVOID_CARD_OFFSET = 40;
    static final int REPLAYED_FROM_OFFSET = 44;
    static final int STATE_OFFSET = 48;
    static final int ENTRY_LENGTH = 64;
    private static final int ENTRY_SHIFT = 6;

    private final int entries;
    private final UnsafeBuffer buffer;
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
        buffer = new UnsafeBuffer(new byte[entries * ENTRY_LENGTH]);
        pending = new int[entries];
    }

    int entries()
    {
        return entries;
    }

    private static int at(final int head, final int offset)
    {
        return (head << ENTRY_SHIFT) + offset;
    }

    // ---------------------------------------------------------------- lifecycle

    int state(final int head)
    {
        return buffer.getInt(at(head, STATE_OFFSET));
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
        buffer.putInt(at(head, STATE_OFFSET), PENDING);
        buffer.putLong(at(head, POP_NANOS_OFFSET), nowNanos);
        buffer.putInt(at(head, ATTEMPT_OFFSET), attempt);
        buffer.putInt(at(head, FIRST_ATTEMPT_OFFSET), attempt);
        buffer.putInt(at(head, AVOID_CARD_OFFSET), NO_CARD);
        buffer.putInt(at(head, REPLAYED_FROM_OFFSET), NO_CARD);
        buffer.putLong(at(head, TROUBLE_SINCE_OFFSET), NO_TROUBLE);
    }

    /** The head's current attempt went to {@code route} on a card at {@code fenceGeneration}. */
    void submitted(final int head, final int route, final int fenceGeneration, final long nowNanos)
    {
        buffer.putInt(at(head, STATE_OFFSET), SUBMITTED);
        buffer.putInt(at(head, ROUTE_OFFSET), route);
        buffer.putInt(at(head, FENCE_GENERATION_OFFSET), fenceGeneration);
        buffer.putLong(at(head, SUBMIT_NANOS_OFFSET), nowNanos);
    }

    /** The request was completed to the guest. */
    void free(final int head)
    {
        buffer.putInt(at(head, STATE_OFFSET), FREE);
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
        buffer.putInt(at(head, ATTEMPT_OFFSET), attempt);
        return attempt - buffer.getInt(at(head, FIRST_ATTEMPT_OFFSET));
    }

    /** Records the first trouble of the request at {@code nowNanos}; later trouble keeps the first. */
    void markTrouble(final int head, final long nowNanos)
    {
        if (troubleSince(head) == NO_TROUBLE)
        {
            buffer.putLong(at(head, TROUBLE_SINCE_OFFSET), nowNanos);
        }
    }

    // ---------------------------------------------------------------- fields

    int attempt(final int head)
    {
        return buffer.getInt(at(head, ATTEMPT_OFFSET));
    }

    int route(final int head)
    {
        return buffer.getInt(at(head, ROUTE_OFFSET));
    }

    int fenceGeneration(final int head)
    {
        return buffer.getInt(at(head, FENCE_GENERATION_OFFSET));
    }

    long popNanos(final int head)
    {
        return buffer.getLong(at(head, POP_NANOS_OFFSET));
    }

    long submitNanos(final int head)
    {
        return buffer.getLong(at(head, SUBMIT_NANOS_OFFSET));
    }

    long troubleSince(final int head)
    {
        return buffer.getLong(at(head, TROUBLE_SINCE_OFFSET));
    }

    int avoidCard(final int head)
    {
        return buffer.getInt(at(head, AVOID_CARD_OFFSET));
    }

    void avoidCard(final int head, final int card)
    {
        buffer.putInt(at(head, AVOID_CARD_OFFSET), card);
    }

    int replayedFrom(final int head)
    {
        return buffer.getInt(at(head, REPLAYED_FROM_OFFSET));
    }

    void replayedFrom(final int head, final int card)
    {
        buffer.putInt(at(head, REPLAYED_FROM_OFFSET), card);
    }

    // ---------------------------------------------------------------- pending FIFO

    /** Queues the head (PENDING) behind the others waiting for dispatch. At most one place per head. */
    void enqueuePending(final int head)
    {
        buffer.putInt(at(head, STATE_OFFSET), PENDING);
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
