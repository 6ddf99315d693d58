package dev.braid.ha;

/**
 * Sends a health probe to a PROBING card (for blk a small read, for net a link query). Called on
 * the controller thread; must not block. The answer comes back through
 * {@link HaController#onProbeResult(int, boolean)}.
 */
@FunctionalInterface
public interface ProbeRequester
{
    ProbeRequester NONE = card -> {};

    void requestProbe(int card);
}
