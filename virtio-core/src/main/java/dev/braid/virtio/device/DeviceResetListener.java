package dev.braid.virtio.device;

/** Told when the device resets (status 0 written) or one queue resets (RING_RESET). */
public interface DeviceResetListener
{
    /** The whole device was reset; every queue is back to its initial state. */
    void onDeviceReset();

    /** One queue was reset through VIRTIO_F_RING_RESET. */
    default void onQueueReset(final int queueIndex)
    {
    }
}
