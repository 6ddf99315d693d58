package dev.braid.sim;

/** What a {@link FaultEvent} does to its target. */
public enum FaultAction
{
    /** {@link FaultTarget#inject}. */
    INJECT,
    /** {@link FaultTarget#heal()}. */
    HEAL,
    /** {@link FaultTarget#rejoin()}: heal; the fence stays its owner's. */
    REJOIN
}
