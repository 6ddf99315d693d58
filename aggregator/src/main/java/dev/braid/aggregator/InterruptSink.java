package dev.braid.aggregator;

/** How Braid asks the VMM to interrupt the guest for a queue (MSI-X vector, irqfd, ...). */
@FunctionalInterface
public interface InterruptSink
{
    void interrupt(int guestQueue);
}
