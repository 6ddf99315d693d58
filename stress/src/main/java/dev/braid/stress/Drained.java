package dev.braid.stress;

import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.mapper.ring.SubmissionHandler;

/**
 * Records what a consumer drained from a ring, in order, and flags anything a correct ring must
 * never hand over: a torn entry, a duplicate, an id nobody offered. Used by one consumer actor and
 * then by the arbiter of the same state, which jcstress orders after every actor.
 */
public final class Drained implements CompletionHandler, SubmissionHandler
{
    public static final int TORN = 1;
    public static final int DUPLICATE = 2;
    public static final int UNKNOWN = 4;
    public static final int LOST = 8;
    public static final int ORDER = 16;

    private final int[] ids = new int[Payload.MAX_ID + 1];
    private int count;
    private int seenMask;
    private int errors;

    public void onCompletion(final long token, final int status, final int length)
    {
        if (!Payload.isWhole(token, status, length))
        {
            errors |= TORN;
            return;
        }
        record(Payload.idOf(token));
    }

    public void onSubmission(final long value)
    {
        if (!Payload.isWhole(value))
        {
            errors |= TORN;
            return;
        }
        record(Payload.idOf(value));
    }

    private void record(final int id)
    {
        final int bit = 1 << id;
        if ((seenMask & bit) != 0)
        {
            errors |= DUPLICATE;
            return;
        }
        seenMask |= bit;
        if (count < ids.length)
        {
            ids[count] = id;
        }
        count++;
    }

    public int count()
    {
        return count;
    }

    /** The id drained at {@code index}. */
    public int id(final int index)
    {
        return ids[index];
    }

    /** Whether {@code first} was drained before {@code second}; false unless both were drained. */
    public boolean before(final int first, final int second)
    {
        for (int i = 0; i < Math.min(count, ids.length); i++)
        {
            if (ids[i] == first)
            {
                return true;
            }
            if (ids[i] == second)
            {
                return false;
            }
        }
        return false;
    }

    /**
     * Errors seen so far, plus {@link #LOST} when an offered id never came out and {@link #UNKNOWN}
     * when one came out that was not offered.
     *
     * @param offeredMask bit {@code 1 << id} for each id whose offer succeeded.
     */
    public int errors(final int offeredMask)
    {
        int result = errors;
        if ((offeredMask & ~seenMask) != 0)
        {
            result |= LOST;
        }
        if ((seenMask & ~offeredMask) != 0)
        {
            result |= UNKNOWN;
        }
        return result;
    }

    /** Adds {@link #ORDER} to {@code errors} if both ids came out and {@code second} came first. */
    public int inOrder(final int errors, final int first, final int second)
    {
        final int both = 1 << first | 1 << second;
        return (seenMask & both) == both && !before(first, second) ? errors | ORDER : errors;
    }
}
