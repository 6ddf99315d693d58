package dev.braid.aggregator;

/** How Braid asks the VMM to interrupt the guest for a queue (MSI-X vector, irqfd, ...). */
@FunctionalInterface
public interface InterruptSink
{
    void interrupt(int guestQueue);

    /**
     * The device changed its config space (net: VIRTIO_NET_S_ANNOUNCE after a failover); the VMM
     * raises the config-change interrupt. Called from the control-plane thread. Default: none.
     */
    default void onConfigChange()
    {
    }
}
