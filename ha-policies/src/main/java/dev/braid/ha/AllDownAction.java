package dev.braid.ha;

/** What to do with a request while no card is usable. */
public enum AllDownAction
{
    /** Hold it: a card may come back before the deadline. */
    WAIT,
    /** Complete it with an I/O error now. */
    FAIL
}
