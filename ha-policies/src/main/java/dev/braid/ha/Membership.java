package dev.braid.ha;

/** A card's standing in the pool, apart from its health. */
public enum Membership
{
    /** Serves when its health allows. */
    ACTIVE,
    /** Hot-removed: out of every new map, kept until the aggregator reports its in-flight drained. */
    REMOVING
}
