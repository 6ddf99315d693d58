package dev.braid.mapper.ring;

/**
 * Submission ring for a card queue fed by several front queues (request-spray, or several guest
 * queues mapped to one card queue). Any thread may offer; one worker drains.
 * Ordering: see {@link SequencedRing}.
 */
public final class ManyToOneSubmissionRing extends SequencedRing implements SubmissionRing
{
    static final int VALUE_OFFSET = 8;
    static final int ENTRY_LENGTH = 16;

    public ManyToOneSubmissionRing(final int capacity)
    {
        super(capacity, ENTRY_LENGTH);
    }

    public boolean offer(final long value)
    {
        final long position = claim();
        if (position < 0)
        {
            return false;
        }
        buffer.putLong(offset(position) + VALUE_OFFSET, value);
        publish(position);
        return true;
    }

    public int drain(final SubmissionHandler handler, final int limit)
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
                final long value = buffer.getLong(offset + VALUE_OFFSET);
                free(offset, head);
                head++;
                count++;
                handler.onSubmission(value);
            }
        }
        finally
        {
            head(head);
        }
        return count;
    }
}
