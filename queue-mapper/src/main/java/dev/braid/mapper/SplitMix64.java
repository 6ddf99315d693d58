package dev.braid.mapper;

/**
 * A small seeded PRNG (SplitMix64) for tie-breaks: allocation-free, single-threaded, reproducible.
 */
final class SplitMix64
{
    private long state;

    SplitMix64(final long seed)
    {
        state = seed;
    }

    long nextLong()
    {
        state += 0x9E3779B97F4A7C15L;
        return mix64(state);
    }

    /** Uniform in {@code [0, bound)} for {@code bound > 0} (Lemire's multiply-shift; bias below 2^-32). */
    int nextInt(final int bound)
    {
        return (int)(((nextLong() >>> 32) * bound) >>> 32);
    }

    static long mix64(final long value)
    {
        long z = value;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
