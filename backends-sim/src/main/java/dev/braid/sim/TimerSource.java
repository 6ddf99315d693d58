package dev.braid.sim;

/**
 * Something that will have work at a known future time (a completion falling due, a link coming
 * back, a scheduled fault). The {@link DeterministicScheduler} asks every source when all agents are
 * idle and jumps the {@link VirtualClock} straight to the earliest answer, so latency and timeouts
 * cost no spinning.
 *
 * <p>Called from the thread that drives the sources (deterministic mode); a source may answer with a
 * time at or before now when it already has due work it could not finish.
 */
@FunctionalInterface
public interface TimerSource
{
    /** Returned when nothing is pending. */
    long NONE = Long.MAX_VALUE;

    /** The earliest time, on the sim's clock, at which this source will have work; {@link #NONE} if never. */
    long nextEventNanos();
}
