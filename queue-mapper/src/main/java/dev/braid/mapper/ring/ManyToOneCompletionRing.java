package dev.braid.mapper.ring;

/**
 * Completions {@code (token, status, length)} from any number of card worker threads to the one
 * front queue thread that owns the guest queue. Bounded, lock-free, allocation-free.
 * Ordering: see {@link SequencedRing}.
 */
public final class ManyToOneCompletionRing extends SequencedRing
{
    static final int TOKEN_OFFSET = 8;
    static final int STATUS_OFFSET = 16;
    static final int LENGTH_OFFSET = 20;
    /** Power of two, so an entry never straddles a cache line. */
    static final int ENTRY_LENGTH = 32;

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
        final int offset = offset(position);
        buffer.putLong(offset + TOKEN_OFFSET, token);
        buffer.putInt(offset + STATUS_OFFSET, status);
        buffer.putInt(offset + LENGTH_OFFSET, length);
        publish(position);
        return true;
    }

    /**
     * Hands up to {@code limit} completions, in publication order per producer, to {@code handler}.
     * Consumer thread only. A completion is consumed before its handler call.
     *
     * @return the number handed over.
     */
    public int drain(final CompletionHandler handler, final int limit)
    {
        long head = head();
        int count = 0;
        try
        {
            while (count < limit)
            {
                final int offset = offset(head);
                if (!isPublished(offset, head))
                {
                    break;
                }
                final long token = buffer.getLong(offset + TOKEN_OFFSET);
                final int status = buffer.getInt(offset + STATUS_OFFSET);
                final int length = buffer.getInt(offset + LENGTH_OFFSET);
                free(offset, head);
                head++;
                count++;
                handler.onCompletion(token, status, length);
            }
        }
        finally
        {
            head(head);
        }
        return count;
    }
}
