package dev.braid.examples.soak;

/** The outcome of one invariant check. */
public enum Verdict
{
    PASS,
    FAIL,
    /** The rig cannot check this cheaply in this configuration; never counted as a pass. */
    NOT_CHECKED
}
