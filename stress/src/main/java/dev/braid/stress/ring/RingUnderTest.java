package dev.braid.stress.ring;

import dev.braid.mapper.ring.ManyToOneCompletionRing;
import dev.braid.mapper.ring.ManyToOneSubmissionRing;
import dev.braid.stress.Drained;
import dev.braid.stress.Payload;
import dev.braid.stress.Rings;

/**
 * The two many-to-one rings seen through the one face the ring scenarios need: offer the entry of
 * an id ({@link Payload}), drain into a {@link Drained}. A completion entry is (token, status,
 * length), a submission entry the token alone, so one scenario checks both rings.
 */
abstract class RingUnderTest
{
    abstract boolean offer(int id);

    abstract int drain(Drained into, int limit);

    /** Drains until a call yields nothing; see {@link Rings}. */
    abstract int drainAll(Drained into);

    /** Offers and drains one throw-away entry, so the next entries straddle the index wrap of a ring of two. */
    final RingUnderTest oneIn()
    {
        offer(Payload.MAX_ID);
        drain(new Drained(), 1);
        return this;
    }

    static RingUnderTest completion(final int capacity)
    {
        final ManyToOneCompletionRing ring = new ManyToOneCompletionRing(capacity);
        return new RingUnderTest()
        {
            boolean offer(final int id)
            {
                return ring.offer(Payload.token(id), Payload.status(id), Payload.length(id));
            }

            int drain(final Drained into, final int limit)
            {
                return ring.drain(into, limit);
            }

            int drainAll(final Drained into)
            {
                return Rings.drainAll(ring, into);
            }
        };
    }

    static RingUnderTest submission(final int capacity)
    {
        final ManyToOneSubmissionRing ring = new ManyToOneSubmissionRing(capacity);
        return new RingUnderTest()
        {
            boolean offer(final int id)
            {
                return ring.offer(Payload.token(id));
            }

            int drain(final Drained into, final int limit)
            {
                return ring.drain(into, limit);
            }

            int drainAll(final Drained into)
            {
                return Rings.drainAll(ring, into);
            }
        };
    }
}
