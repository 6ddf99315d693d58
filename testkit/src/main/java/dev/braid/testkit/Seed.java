package dev.braid.testkit;

import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * The seed of one randomized test, handed in by {@link SeedExtension}: {@code -Dbraid.seed=N}
 * replays N, otherwise the test's {@link DefaultSeed} or a fresh one. {@code -Dbraid.seeds=N}
 * scales how many iterations or runs a test does (default 2000). Not thread-safe: one test's thread.
 */
public final class Seed
{
    public static final String SEED_PROPERTY = "braid.seed";
    public static final String SEEDS_PROPERTY = "braid.seeds";
    public static final int DEFAULT_SEEDS = 2000;

    private final long value;
    private final boolean replaying;
    private long current;

    Seed(final long value, final boolean replaying)
    {
        this.value = value;
        this.replaying = replaying;
        this.current = value;
    }

    /** The configured scale, {@code -Dbraid.seeds} (default 2000), for tests that need only a count. */
    public static int configuredSeeds()
    {
        return Integer.getInteger(SEEDS_PROPERTY, DEFAULT_SEEDS);
    }

    /** The seed. */
    public long value()
    {
        return value;
    }

    /** Whether {@code -Dbraid.seed} fixed it. */
    public boolean replaying()
    {
        return replaying;
    }

    /** {@code -Dbraid.seeds}, default 2000: the iteration budget of a test that walks one random stream. */
    public int seeds()
    {
        return configuredSeeds();
    }

    /** A random stream from the seed. */
    public SplittableRandom random()
    {
        return new SplittableRandom(value);
    }

    /** How many seeds {@link #forEach} should run: 1 when replaying, else {@code count}. */
    public int runs(final int count)
    {
        return replaying ? 1 : count;
    }

    /**
     * Runs {@code run} with seeds value, value + 1, ... ({@link #runs} of them). A failure names the
     * seed that failed, and that is the one the extension tells to replay.
     */
    public void forEach(final int count, final LongConsumer run)
    {
        final int runs = runs(count);
        for (int i = 0; i < runs; i++)
        {
            current = value + i;
            try
            {
                run.accept(current);
            }
            catch (final AssertionError | RuntimeException ex)
            {
                throw new AssertionError("seed=" + current + " failed (" + replay(current) + "): " + ex.getMessage(), ex);
            }
        }
        current = value;
    }

    /** The seed a failure now would be replayed with: {@link #value} or the run {@link #forEach} is in. */
    public long current()
    {
        return current;
    }

    /** The system property that replays {@code seed}. */
    public static String replay(final long seed)
    {
        return "-D" + SEED_PROPERTY + "=" + seed;
    }

    @Override
    public String toString()
    {
        return "seed=" + value;
    }
}
