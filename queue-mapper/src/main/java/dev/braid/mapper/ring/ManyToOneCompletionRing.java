package dev.braid.mapper.ring;

/**
 * Completions {@code (token, status, length)} from any number of card worker threads to the one
 * front queue thread that owns the guest queue. Bounded, lock-free, allocation-free.
 * Ordering: see {@link SequencedRing}.
 */
public final class ManyToOneCompletionRing extends SequencedRing
{
    static final int TOKEN_OFFSET = 1;
    /** {@code status << 32 | length}. */
    static final int STATUS_LENGTH_OFFSET = 2;
    /** In longs; a power of two so an entry never straddles a cache line within the array. */
    static final int ENTRY_LENGTH = 4;

    public ManyToOneCompletionRing(final int capacity)
    {
        super(capacity, ENTRY_LENGTH);
    }

    /** Adds a completion; false when full. Any thread. */
    public boolean offer(final long token, final int status, final int length)
    {
        final long position = claim();
        if (position < 0)
        {
            return false;
        }
        final int index = index(position);
        slots[index + TOKEN_OFFSET] = token;
        slots[index + STATUS_LENGTH_OFFSET] = (long)status << 32 | (length & 0xFFFF_FFFFL);
        publish(index, position);
        return true;
    }

    /**
     * Hands up to {@code limit} completions, in publication order per producer, to {@code handler}.
     * Consumer thread only. A completion is consumed before its handler call, so a throwing handler
     * loses only that completion.
     *
     * @return the number handed over.
     */
    public int drain(final CompletionHandler handler, final int limit)
    {
        final long[] slots = this.slots;
        long head = head();
        int count = 0;
        try
        {
            while (count < limit)
            {
                final int index = index(head);
                if (!isPublished(index, head))
                {
                    break;
                }
                final long token = slots[index + TOKEN_OFFSET];
                final long statusLength = slots[index + STATUS_LENGTH_OFFSET];
                free(index, head);
                head++;
                count++;
                handler.onCompletion(token, (int)(statusLength >>> 32), (int)statusLength);
            }
        }
        finally
        {
            head(head);
        }
        return count;
    }
}
