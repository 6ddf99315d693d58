package dev.braid.virtio.card;

/**
 * A NIC card that keeps {@link NetCardCounters}; the per-count accessors read them. Not on the
 * request path: the card bumps its counters directly, these are for stats and tests.
 */
public interface CountedNetCard extends NetCard
{
    NetCardCounters counters();

    default long txFrames()
    {
        return counters().txFrames();
    }

    default long txBytes()
    {
        return counters().txBytes();
    }

    default long txErrors()
    {
        return counters().txErrors();
    }

    default long txDropped()
    {
        return counters().txDropped();
    }

    default long rxFrames()
    {
        return counters().rxFrames();
    }

    default long rxBytes()
    {
        return counters().rxBytes();
    }

    default long rxDropped()
    {
        return counters().rxDropped();
    }
}
