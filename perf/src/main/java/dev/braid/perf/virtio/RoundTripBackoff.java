package dev.braid.perf.virtio;

/**
 * Idle strategy of the round-trip threads: spin, and after {@link #SPINS} idle polls in a row
 * yield the CPU once. With two free cores the threads never get that far; on an oversubscribed
 * machine it lets the peer thread run instead of burning the rest of the time slice.
 */
final class RoundTripBackoff
{
    static final int SPINS = 256;

    private RoundTripBackoff()
    {
    }

    /** One idle poll; returns the new idle count. */
    static int idle(final int idle)
    {
        if (idle < SPINS)
        {
            Thread.onSpinWait();
            return idle + 1;
        }
        Thread.yield();
        return 0;
    }
}
