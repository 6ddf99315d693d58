package dev.braid.mapper;

/** Seed handling for randomized tests: prints the seed, replays {@code -Dbraid.seed=N}. */
public final class Seeds
{
    private Seeds()
    {
    }

    public static long seed(final String test)
    {
        final String fixed = System.getProperty("braid.seed");
        final long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(test + " seed=" + seed);
        return seed;
    }

    /** Iterations per randomized suite, from {@code -Dbraid.seeds} (default 2000). */
    public static int iterations()
    {
        return Integer.getInteger("braid.seeds", 2000);
    }
}
