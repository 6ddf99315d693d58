package dev.braid.aggregator;

/**
 * Device-type hooks run by the control plane, inside the control conductor's duty cycle and so on
 * the HA controller's thread ({@link ControlAgent} runs both as one agent): what a device
 * does when one of its cards is fenced for good reason (net: announce itself through a survivor),
 * plus a duty cycle for work that must be retried (an announce no card could send yet).
 */
public interface ControlPlaneListener
{
    ControlPlaneListener NONE = new ControlPlaneListener()
    {
    };

    /** {@code card} was fenced because it went DOWN or was hot-removed; its traffic moves to others. */
    default void onCardFenced(final int card, final long nowNanos)
    {
    }

    /** Called once per control-plane duty cycle; returns the work done (0 when idle). */
    default int doWork(final long nowNanos)
    {
        return 0;
    }
}
