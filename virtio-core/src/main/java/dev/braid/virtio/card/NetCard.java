package dev.braid.virtio.card;

/**
 * A NIC port. Every card of an aggregated net device accepts the device's MAC, so any of them can
 * carry any flow; rx is pulled: the aggregator asks a live card for a frame only when it holds a
 * guest rx buffer, and the card writes it straight into that buffer.
 */
public interface NetCard extends Card
{
    /** Sends {@code frame}; completes through {@code sink} with the bytes sent. False when full or fenced. */
    boolean transmit(int queue, NetFrame frame, long token, CompletionSink sink);

    /**
     * Writes the next received frame for queue {@code queue} into {@code buffer}, after
     * {@code buffer.headerSkip()} bytes. Returns the frame length, 0 when none is waiting, or -1
     * when the frame did not fit (it is dropped and counted, as a NIC would).
     */
    int receive(int queue, NetFrame buffer);

    /** Programs the unicast address the card must accept, in addition to its own. */
    void setMacAddress(byte[] mac);

    /** RX mode as the guest set it through the control queue. */
    void setRxMode(boolean promiscuous, boolean allMulticast);

    /** Sends a gratuitous ARP / announce for the device MAC (after a failover). */
    boolean announce(byte[] mac, int ipv4Address);
}
