package dev.braid.ha;

/** Seed and iteration count of randomized tests: {@code -Dbraid.seed=N} replays, {@code -Dbraid.seeds=N} scales. */
final class Seeds
{
    private Seeds()
    {
    }

    static long seed()
    {
        final String fixed = System.getProperty("braid.seed");
        final long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println("seed=" + seed);
        return seed;
    }

    static int iterations()
    {
        return Integer.getInteger("braid.seeds", 2000);
    }
}
