package dev.braid.ha;

/** Told of every state change of every card, on the thread that drives the health machines. */
@FunctionalInterface
public interface HealthListener
{
    void onTransition(int card, HealthState from, HealthState to, long nowNanos, TransitionReason reason);
}
