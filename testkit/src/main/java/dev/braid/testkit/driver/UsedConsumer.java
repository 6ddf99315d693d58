package dev.braid.testkit.driver;

/**
 * Receives completed buffers from {@link DriverQueue#reap}. Implemented once by the caller and
 * reused, so that reaping allocates nothing.
 */
@FunctionalInterface
public interface UsedConsumer
{
    /**
     * One buffer came back.
     *
     * @param id  the value {@link DriverQueue#addChain} returned for it (split: head index; packed:
     *            buffer id). Its descriptors are already free again.
     * @param len bytes the device says it wrote into the buffer (unsigned 32-bit).
     */
    void onUsed(int id, int len);
}
