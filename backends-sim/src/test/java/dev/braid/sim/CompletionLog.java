package dev.braid.sim;

import dev.braid.virtio.card.CompletionSink;

import java.util.ArrayList;
import java.util.List;

/** Collects completions; can be told to refuse them ("full") to test retry. */
public final class CompletionLog implements CompletionSink
{
    public record Completion(long token, int status, int length)
    {
    }

    public final List<Completion> completions = new ArrayList<>();
    public boolean full;

    public synchronized boolean complete(final long token, final int status, final int length)
    {
        if (full)
        {
            return false;
        }
        completions.add(new Completion(token, status, length));
        return true;
    }

    public synchronized Completion only()
    {
        if (completions.size() != 1)
        {
            throw new AssertionError("expected one completion, got " + completions);
        }
        return completions.get(0);
    }

    public synchronized Completion byToken(final long token)
    {
        for (final Completion c : completions)
        {
            if (c.token() == token)
            {
                return c;
            }
        }
        throw new AssertionError("no completion for token " + token + " in " + completions);
    }
}
