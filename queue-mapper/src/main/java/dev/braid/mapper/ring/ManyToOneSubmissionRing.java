package dev.braid.mapper.ring;

/**
 * Submission ring for a card queue fed by several front queues (request-spray, or several guest
 * queues mapped to one card queue). Any thread may offer; one worker drains.
 * Ordering: see {@link SequencedRing}.
 */
public final class ManyToOneSubmissionRing extends SequencedRing implements SubmissionRing
{
    static final int VALUE_OFFSET = 1;
    /** In longs. */
    static final int ENTRY_LENGTH = 2;

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
        final int index = index(position);
        slots[index + VALUE_OFFSET] = value;
        publish(index, position);
        return true;
    }

    public int drain(final SubmissionHandler handler, final int limit)
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
                final long value = slots[index + VALUE_OFFSET];
                free(index, head);
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
