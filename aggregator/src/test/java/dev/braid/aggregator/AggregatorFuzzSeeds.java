package dev.braid.aggregator;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes the committed seed corpus of {@link AggregatorFuzzTest}: random byte strings long enough
 * to choose a device, a workload and several faults. Run with the test classpath:
 * {@code java dev.braid.aggregator.AggregatorFuzzSeeds aggregator/src/test/resources}.
 */
public final class AggregatorFuzzSeeds
{
    public static void main(final String[] args) throws IOException
    {
        final Path dir = Path.of(args[0], "dev/braid/aggregator/AggregatorFuzzTestInputs/faultScheduleAndWorkload");
        Files.createDirectories(dir);
        final SplittableRandom random = new SplittableRandom(2026);
        for (int i = 0; i < 12; i++)
        {
            final ByteBuffer bytes = ByteBuffer.allocate(256);
            while (bytes.hasRemaining())
            {
                bytes.put((byte)random.nextInt(256));
            }
            Files.write(dir.resolve("seed-" + i), bytes.array());
        }
    }
}
