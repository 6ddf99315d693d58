package dev.braid.mapper.ring;

/** Receives values drained from a {@link SubmissionRing}; implemented once, not per call. */
@FunctionalInterface
public interface SubmissionHandler
{
    void onSubmission(long value);
}
