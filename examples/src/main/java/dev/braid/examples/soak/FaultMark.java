package dev.braid.examples.soak;

/** A fault event or scenario action the rig applied, at nanos since the start of the run. */
public record FaultMark(long atNanos, int card, String what)
{
}
