package dev.braid.stress.handoff;

/**
 * A model of one in-flight table entry: the front queue records where and when a request went, the
 * card records how it ended. Plain fields; ownership moves with the ring entry that names it.
 */
final class InFlight
{
    int head;
    int card;
    int attempt;
    long submitNanos;
    int status;
    int length;

    /** Front queue, before submitting. */
    void submit(final int id)
    {
        head = id;
        card = id + 1;
        attempt = id + 2;
        submitNanos = id * 1_000_000_007L;
    }

    boolean isSubmitted(final int id)
    {
        return head == id && card == id + 1 && attempt == id + 2 && submitNanos == id * 1_000_000_007L;
    }

    /** Card, before completing. */
    void complete(final int id)
    {
        status = -id;
        length = id * 4096;
    }

    /** What the front queue must see on completion: its own fields and the card's. */
    boolean isCompleted(final int id)
    {
        return isSubmitted(id) && status == -id && length == id * 4096;
    }
}
