package dev.braid.testkit;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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

    @Test
    void aFailingTestPrintsItsSeedAndHowToReplayIt()
    {
        // A -Dbraid.seed replay of the whole suite would fix the inner test's seed too.
        assumeTrue(System.getProperty(Seed.SEED_PROPERTY) == null, "not while replaying a seed");
        final PrintStream out = System.out;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        final SummaryGeneratingListener listener = new SummaryGeneratingListener();
        Failing.armed = true;
        try
        {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            final Launcher launcher = LauncherFactory.create();
            launcher.execute(request().selectors(selectClass(Failing.class)).build(), listener);
        }
        finally
        {
            Failing.armed = false;
            System.setOut(out);
        }
        final TestExecutionSummary summary = listener.getSummary();
        assertEquals(1, summary.getTotalFailureCount());
        final String printed = captured.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("Failing.failsAtTheThirdSeed seed=500"), printed);
        assertTrue(printed.contains("Failing.failsAtTheThirdSeed failed at seed=502; replay: -Dbraid.seed=502 " +
            "-Dtest=Failing#failsAtTheThirdSeed"), printed);
        final Throwable failure = summary.getFailures().get(0).getException();
        assertEquals(1, failure.getSuppressed().length, "the replay line rides on the failure");
        assertTrue(failure.getSuppressed()[0].getMessage().contains("-Dbraid.seed=502"));
    }

    /** Run only through the launcher above (surefire skips nested classes); fails at its third seed. */
    @ExtendWith(SeedExtension.class)
    @DefaultSeed(500)
    static class Failing
    {
        static volatile boolean armed;

        @Test
        void failsAtTheThirdSeed(final Seed seed)
        {
            if (armed)
            {
                seed.forEach(10, s -> assertTrue(s < 502, "seed " + s));
            }
        }
    }
}
