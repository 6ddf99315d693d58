package dev.braid.examples.soak;

import dev.braid.ha.HealthState;
import dev.braid.ha.TransitionReason;

/** One entry of the device's failover log, with its time made relative to the start of the run. */
public record Transition(long atNanos, int card, HealthState from, HealthState to, TransitionReason reason, long epoch)
{
}
