package dev.braid.sim;

/** How hard {@link FaultSchedule#random} hits the cards. */
public enum FaultProfile
{
    /** No faults: a baseline run. */
    NONE,
    /** Occasional, one card at a time, the milder modes; every fault is healed. */
    LIGHT,
    /** Frequent, all but one card at once, every mode including FAIL_STOP and ZOMBIE. */
    HEAVY
}
