package dev.braid.examples;

import dev.braid.examples.faults.FaultScenarios;
import dev.braid.examples.faults.ScenarioResult;
import dev.braid.testkit.DefaultSeed;
import dev.braid.testkit.Seed;
import dev.braid.testkit.SeedExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The named fault scenarios of {@code braid faults}, one test each. */
@ExtendWith(SeedExtension.class)
class FaultScenariosTest
{
    static List<String> scenarios()
    {
        return FaultScenarios.names();
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    @DefaultSeed(1)
    void scenario(final String name, final Seed seeded)
    {
        final long seed = seeded.value();
        final ScenarioResult r = FaultScenarios.run(name, seed);
        System.out.println(r);
        assertEquals("PASS", r.result(), r.note());
        assertTrue(r.requests() > 0);
    }
}
