package dev.braid.testkit;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(SeedExtension.class)
class SeedExtensionTest
{
    private static Seed classSeed;

    @BeforeAll
    static void classSeed(final Seed seed)
    {
        classSeed = seed;
    }

    @Test
    void aTestInAClassThatPickedASeedSharesIt(final Seed seed)
    {
        assertNotNull(classSeed);
        assertSame(classSeed, seed, "one seed per class when @BeforeAll asked for it");
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 2 })
    void parameterizedTestsGetTheSeedAfterTheirArguments(final int n, final Seed seed)
    {
        assertTrue(n > 0);
        assertEquals(Seed.configuredSeeds(), seed.seeds());
    }

    @Test
    void forEachRunsConsecutiveSeedsAndNamesTheOneThatFailed()
    {
        final Seed seed = new Seed(100, false);
        final List<Long> ran = new ArrayList<>();
        seed.forEach(3, ran::add);
        assertEquals(List.of(100L, 101L, 102L), ran);

        final AssertionError failure = assertThrows(AssertionError.class, () -> seed.forEach(10, s ->
        {
            if (s == 104)
            {
                throw new IllegalStateException("boom");
            }
        }));
        assertTrue(failure.getMessage().contains("seed=104") && failure.getMessage().contains("-Dbraid.seed=104"),
            failure.getMessage());
        assertEquals(104, seed.current(), "the failing seed is the one to replay");
    }

    @Test
    void replayingRunsOnlyTheGivenSeed()
    {
        final Seed seed = new Seed(7, true);
        final List<Long> ran = new ArrayList<>();
        seed.forEach(50, ran::add);
        assertEquals(List.of(7L), ran);
        assertEquals(1, seed.runs(2000));
        assertFalse(new Seed(7, false).runs(2000) == 1);
    }

    @Test
    void theSameSeedGivesTheSameStream()
    {
        assertEquals(new Seed(42, false).random().nextLong(), new Seed(42, true).random().nextLong());
        assertEquals("-Dbraid.seed=42", Seed.replay(42));
    }
}
