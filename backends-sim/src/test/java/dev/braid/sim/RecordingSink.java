package dev.braid.sim;

import dev.braid.virtio.card.CompletionSink;

import java.util.ArrayList;
import java.util.List;

/** Records completions in arrival order; can refuse them to exercise the card's retry. */
class RecordingSink implements CompletionSink
{
    record Completion(long token, int status, int length, long atNanos)
    {
    }

    private final VirtualClock clock;
    final List<Completion> completions = new ArrayList<>();
    boolean refuse;

    RecordingSink(final VirtualClock clock)
    {
        this.clock = clock;
    }

    public boolean complete(final long token, final int status, final int length)
    {
        if (refuse)
        {
            return false;
        }
        completions.add(new Completion(token, status, length, clock.nanoTime()));
        return true;
    }

    int size()
    {
        return completions.size();
    }

    Completion get(final int index)
    {
        return completions.get(index);
    }

    Completion last()
    {
        return completions.get(completions.size() - 1);
    }
}
