package dev.braid.mapper.ring;

/** Receives completions drained from a {@link ManyToOneCompletionRing}; implemented once, not per call. */
@FunctionalInterface
public interface CompletionHandler
{
    void onCompletion(long token, int status, int length);
}
