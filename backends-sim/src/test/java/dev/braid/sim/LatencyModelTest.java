package dev.braid.sim;

import dev.braid.virtio.card.BlockIo;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LatencyModelTest
{
    private static long[] draws(final LatencyModel model, final long seed, final int n)
    {
        final SplittableRandom rng = new SplittableRandom(seed);
        final long[] out = new long[n];
        for (int i = 0; i < n; i++)
        {
            out[i] = model.serviceNanos(BlockIo.READ, 4096, rng);
        }
        return out;
    }

    @Test
    void zeroAndFixed()
    {
        assertEquals(0, LatencyModel.ZERO.serviceNanos(BlockIo.WRITE, 1 << 20, new SplittableRandom(1)));
        assertEquals(5000, LatencyModel.fixed(5000).serviceNanos(BlockIo.READ, 4096, new SplittableRandom(1)));
        assertEquals(5000 + 4 * 100, LatencyModel.fixed(5000, 100).serviceNanos(BlockIo.READ, 4096, null));
        assertEquals(5000 + 100, LatencyModel.fixed(5000, 100).serviceNanos(BlockIo.READ, 1, null));
    }

    @Test
    void uniformStaysInRange()
    {
        final long[] d = draws(LatencyModel.uniform(100, 200), 5, 10_000);
        assertEquals(100, Arrays.stream(d).min().getAsLong());
        assertEquals(200, Arrays.stream(d).max().getAsLong());
    }

    @Test
    void exponentialHasItsMeanAndCap()
    {
        final long[] d = draws(LatencyModel.exponential(1000, 10_000, 200_000), 6, 100_000);
        final double mean = Arrays.stream(d).average().getAsDouble();
        assertTrue(mean > 10_500 && mean < 11_500, "mean=" + mean);
        assertTrue(Arrays.stream(d).min().getAsLong() >= 1000);
        assertTrue(Arrays.stream(d).max().getAsLong() <= 200_000);
    }

    @Test
    void logNormalHasItsMedianAndATail()
    {
        final long[] d = draws(LatencyModel.logNormal(20_000, 0.3, 0.01, 50, 50_000_000), 7, 100_000);
        final long[] sorted = d.clone();
        Arrays.sort(sorted);
        final long median = sorted[sorted.length / 2];
        assertTrue(median > 19_000 && median < 21_000, "median=" + median);
        final long p999 = sorted[(int)(sorted.length * 0.999)];
        assertTrue(p999 > 10 * median, "tail p99.9=" + p999);
        assertTrue(sorted[sorted.length - 1] <= 50_000_000);
    }

    @Test
    void sameSeedSameDraws()
    {
        final LatencyModel model = LatencyModel.logNormal(20_000, 0.5, 0.01, 20, 1_000_000);
        assertTrue(Arrays.equals(draws(model, 11, 1000), draws(model, 11, 1000)));
        assertTrue(!Arrays.equals(draws(model, 11, 1000), draws(model, 12, 1000)));
    }

    @Test
    void rejectsNonsense()
    {
        assertThrows(IllegalArgumentException.class, () -> LatencyModel.fixed(-1));
        assertThrows(IllegalArgumentException.class, () -> LatencyModel.uniform(5, 4));
        assertThrows(IllegalArgumentException.class, () -> LatencyModel.logNormal(1, Double.NaN, 0, 1, 1));
    }
}
