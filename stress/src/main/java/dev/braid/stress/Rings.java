package dev.braid.stress;

import dev.braid.mapper.ring.CompletionHandler;
import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.mapper.ring.SubmissionHandler;
import dev.braid.mapper.ring.SubmissionRing;

import java.util.function.IntSupplier;

/**
 * Arbiter-side draining. One drain call may legally hand over fewer entries than are there (a ring
 * may stop at a cached tail), so the arbiter drains until a call yields nothing. Bounded, so a
 * ring that keeps inventing entries fails the test instead of hanging it.
 */
public final class Rings
{
    private static final int MAX_CALLS = 4 * (Payload.MAX_ID + 1);

    private Rings()
    {
    }

    public static int drainAll(final SubmissionRing ring, final SubmissionHandler handler)
    {
        return drainUntilEmpty(() -> ring.drain(handler, Payload.MAX_ID));
    }

    public static int drainAll(final ManyToOneCompletionRing ring, final CompletionHandler handler)
    {
        return drainUntilEmpty(() -> ring.drain(handler, Payload.MAX_ID));
    }

    private static int drainUntilEmpty(final IntSupplier drainOnce)
    {
        int total = 0;
        for (int i = 0; i < MAX_CALLS; i++)
        {
            final int count = drainOnce.getAsInt();
            if (count == 0)
            {
                break;
            }
            total += count;
        }
        return total;
    }
}
