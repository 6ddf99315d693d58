package dev.braid.examples.soak;

import dev.braid.ha.TransitionReason;

/**
 * One failover as the soak rig saw it: the card went DOWN (logged by the controller), was fenced,
 * and its requests were replayed elsewhere. Times are nanos since the start of the run; -1 = unknown.
 *
 * @param faultAtNanos when the fault that caused it was injected (-1 when not injected by the rig).
 * @param downAtNanos  when the controller marked the card DOWN.
 * @param stallNanos   fence to the guest's first completion of a replayed request (the device's
 *                     measurement), -1 when nothing needed replaying.
 */
public record Failover(int card, TransitionReason reason, long faultAtNanos, long downAtNanos, long stallNanos)
{
    /** Fault to DOWN: how long detection took (timeouts dominate for hangs). */
    public long detectNanos()
    {
        return faultAtNanos < 0 ? -1 : Math.max(0, downAtNanos - faultAtNanos);
    }
}
